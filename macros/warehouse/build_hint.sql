{#
  A value `frontier build` hands this dbt invocation in the environment variable
  FRONTIER_<NAME> (`validated_through`, `test_loaded_after`: see frontier.dbt.build), or none
  when it is unset (a full build, or plain `dbt build`). The environment and not --vars: dbt
  parses the whole project again whenever --vars change (every incremental run, ~2 s of CPU).
  Read at execution only: a variable read while parsing would make dbt parse again the files
  that read it whenever it changes (the model files and the schema files of their tests).
#}
{% macro build_hint(name) -%}
    {%- set value = env_var('FRONTIER_' ~ name | upper, '') if execute else '' -%}
    {{- return(value if value else none) -}}
{%- endmacro %}
