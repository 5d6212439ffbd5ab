{#-
    The model that gives one entity of the warehouse's core banking system in the shared shape
    the marts read: core_ref('accounts') is stg_core__accounts for the generator's bank and
    int_berka_accounts_conformed for the PKDD'99 Czech bank. The var `core_source` picks the
    system (frontier passes it; see config.core_source).
-#}
{% macro core_ref(entity) %}
    {%- set source = var('core_source', 'core') -%}
    {%- if source == 'core' -%}
        {{ return(ref('stg_core__' ~ entity)) }}
    {%- elif source == 'berka' -%}
        {{ return(ref('int_berka_' ~ entity ~ '_conformed')) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("var core_source is core or berka, not " ~ source) }}
    {%- endif -%}
{% endmacro %}
