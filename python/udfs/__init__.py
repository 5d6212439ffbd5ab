"""Compile trained Spark MLlib tree ensembles into persistent Spark SQL functions.

``forest`` reads a saved model into plain Python objects and scores rows with them (the reference
semantics); ``compiler`` turns the same objects into ``CREATE FUNCTION`` statements that any SQL
client can call, with no Python at scoring time.
"""
