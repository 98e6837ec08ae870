"""Orchestration: what the Airflow DAGs call — config (DAG ids, assets, default args), one function per
DAG task (ingest, transform, weekly, periodic, publication, watch), the run log and alerts (ops), and
the Airflow UI plugin (airflow_plugin). The DAG files in dags/ only wire these together."""
