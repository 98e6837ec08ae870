"""Transform: the dbt project's profile, invocation and manifest (the models live in dbt_project/)."""
