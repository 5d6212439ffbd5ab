"""Financial Forecasting Frontier: a SQL-first Spark/Hive banking warehouse with ML."""

__version__ = "0.1.0"
