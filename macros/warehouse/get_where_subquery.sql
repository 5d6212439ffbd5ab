{#
  Overrides dbt's get_where_subquery, which wraps the relation every generic test reads.
  Besides the usual `where` config: on an incremental build frontier hands over (build_hint)
  `validated_through` (the last core batch validated before the run) and `test_loaded_after`
  (the last `loaded_at` of fct_transactions), and tests on the models listed in the var
  `batch_columns` read only the newer rows: columns ending in `loaded_at` compare with
  `test_loaded_after`, the others with `validated_through`. A full build (no hints) tests every
  row. Cross-batch guarantees (one accepted row per transaction id) are enforced by
  int_transactions_validated, not by re-scanning history on every run.
  Tests on the models in the var `batch_keys` read, on an incremental build, every row of the
  keys (customers) that have a row loaded after `test_loaded_after`: a run rewrites those keys'
  rows and copies the others' unchanged, and these were tested by the run that wrote them.
#}
{% macro get_where_subquery(relation) -%}
    {%- set filters = [] -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- do filters.append(where) -%}
    {%- endif -%}
    {%- set keyed = var('batch_keys', {}).get(relation.identifier) -%}
    {%- set loaded_after = build_hint('test_loaded_after') -%}
    {%- if keyed and loaded_after -%}
        {%- do filters.append(
            keyed.key ~ " in (select " ~ keyed.key ~ " from " ~ relation ~ " where "
            ~ keyed.column ~ " > '" ~ loaded_after ~ "')"
        ) -%}
    {%- endif -%}
    {%- set column = var('batch_columns', {}).get(relation.identifier) -%}
    {%- set after = build_hint(
        'test_loaded_after' if column and column.endswith('loaded_at') else 'validated_through'
    ) -%}
    {%- if after and column -%}
        {%- do filters.append(column ~ " > '" ~ after ~ "'") -%}
        {%- if column.endswith('loaded_at') -%}
            {#- Rows newer than `test_loaded_after` were stamped by this invocation, whose loads
                rewrite every file holding a row they stamp: Spark drops the files written
                before it started by their modification time, without opening them (a filter on
                the column alone opens every file: ~370 day files in fct_transactions). A
                minute's allowance for the clock of the storage. -#}
            {%- set written_since = run_started_at - modules.datetime.timedelta(minutes=1) -%}
            {%- do filters.append(
                "_metadata.file_modification_time >= timestamp'"
                ~ written_since.strftime('%Y-%m-%d %H:%M:%S') ~ "'"
            ) -%}
        {%- endif -%}
    {%- endif -%}
    {%- if filters -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ filters | join(' and ') }}) as dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
