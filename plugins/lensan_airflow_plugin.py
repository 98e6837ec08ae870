"""Airflow's entry to the lensan plugin: the plugins manager imports every module of its plugins folder
(the repository's plugins/, see plugins/.airflowignore) and registers the AirflowPlugin classes it finds.
The plugin is lensan.orchestration.airflow_plugin."""

from lensan.orchestration.airflow_plugin import LensanPlugin

__all__ = ["LensanPlugin"]
