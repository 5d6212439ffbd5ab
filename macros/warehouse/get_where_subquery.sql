{#
  Overrides dbt's get_where_subquery, which wraps the relation every generic test reads.
  Besides the usual `where` config: when the var `test_batches_after` is set (frontier's
  incremental `build` sets it to the last batch already loaded), tests on the models listed in
  the var `batch_columns` read only the rows from newer batches. A full build (no var) tests
  every row. Cross-batch guarantees (one accepted row per transaction id) are enforced by
  int_transactions_validated, not by re-scanning history on every run.
#}
{% macro get_where_subquery(relation) -%}
    {%- set filters = [] -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- do filters.append(where) -%}
    {%- endif -%}
    {%- set after = var('test_batches_after', none) -%}
    {%- set column = var('batch_columns', {}).get(relation.identifier) -%}
    {%- if after and column -%}
        {%- do filters.append(column ~ " > '" ~ after ~ "'") -%}
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
