{#
  Fails (or warns, with severity: warn) when the model has any row: for rejects models, so that
  quarantined rows are reported by every `dbt build` instead of passing unnoticed.
#}
{% test no_rows(model) %}

select * from {{ model }}

{% endtest %}
