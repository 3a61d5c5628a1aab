-- Runs once, when the postgres volume is first created: the job store uses the database
-- "dynas" (POSTGRES_DB), the MLflow tracking server its own database "mlflow".
CREATE DATABASE mlflow OWNER dynas;
