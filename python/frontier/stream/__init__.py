"""The real-time path: transaction events in, validated rows, alerts and live aggregates out.

- ``events``: the event format, parsing and validation in Spark, and the checks that need the
  stream's state or clock (known account, watermark, duplicate id) on the driver;
- ``feed``: ``frontier simulate`` and ``frontier replay``, which drop newline-delimited JSON files
  into the stream landing folder the way a core system's event exporter would;
- ``scoring``: the ``txn_anomaly`` features of a live event (the account's profile from the
  warehouse plus its recent events in the stream) and the champion's score and reasons;
- ``sink``: idempotent writes of one micro-batch into a Hive table, keyed by the batch id;
- ``job``: ``frontier stream``, the Structured Streaming query that ties them together.
"""
