{#
  Table options (a model's `options` config) that write the given parquet columns without
  dictionary encoding: parquet's column-specific `parquet.enable.dictionary#<column>`, which
  Spark passes from the table's options to the writer on every write, full or incremental.

  For columns whose values are nearly all distinct within a file (ids, timestamps, amounts), the
  writer hashes and copies every value into a dictionary, finds when it writes the column's first
  page (in a small file, the whole column chunk) that the dictionary does not pay, and
  encodes the values again as plain ones: the file ends up plain anyway. That waste is large where
  files are small, as in fct_transactions (one file per day, ~14,000 rows at 10M transactions).
  Rewriting its 10M rows by day, alternating in one process: 30.4-35.9 s with dictionaries,
  26.7-27.2 s with its eight such columns plain, 465 MB instead of 469 MB. Tables written in
  larger files measured no gain the same way (feat_transaction_anomaly 16.0-18.0 vs 16.1-16.3 s,
  int_transactions_validated, fct_daily_account_balances, bi_customer_recent_transactions within
  noise), so they keep parquet's default. Columns with few distinct values (codes, days, names)
  keep their dictionaries: they are what makes those columns small.
#}

{% macro plain_encoded(columns) -%}
    {%- set options = {} -%}
    {%- for column in columns -%}
        {#- backquoted: `#` is not allowed in an unquoted option key -#}
        {%- do options.update({'`parquet.enable.dictionary#' ~ column ~ '`': 'false'}) -%}
    {%- endfor -%}
    {{ return(options) }}
{%- endmacro %}
