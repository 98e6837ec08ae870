-- Metabase keeps its own settings (not lensan data) in this database of the airflow-db server.
-- Runs once, when the airflow-db volume is first initialised.
CREATE DATABASE metabase;
