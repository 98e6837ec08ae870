"""Orchestration: what the Airflow DAGs call — DAG ids, assets, default args, and one function per DAG
task. The DAG files in dags/ only wire these together."""
