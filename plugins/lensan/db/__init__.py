"""Database: the warehouse connection (embedded PostgreSQL or LENSAN_WAREHOUSE_URL), transactions,
reader roles, and the raw/ops DDL (`schema/*.sql`, the only copy)."""
