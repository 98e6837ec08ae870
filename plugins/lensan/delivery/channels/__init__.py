"""Delivery channels, one module each: outbox (a folder under LENSAN_HOME, the default), sftp and email (with
the e-mail's subject and body); base holds the `Channel` interface they implement and the Airflow connection
lookup of the two that use one. `lensan.delivery.service.make_channel` picks one by name."""
