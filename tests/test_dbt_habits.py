"""What a dbt user writes in a model gets an error saying what to write here, at its line and column."""
from pathlib import Path

import pytest

from elt.errors import ModelError
from tests.bad_input import elt
from transforms.models import parse_model


@pytest.mark.parametrize("sql, where, message, hint", [
    ("select o.id\nfrom {{ ref('stg_orders') }} as o", "2:6", "Jinja in a model: {{ ref('stg_orders') }}",
     "write `stg_orders` instead of `{{ ref('stg_orders') }}`"),
    ("select *\n  from {{ source('shop', 'orders') }}", "2:8", "Jinja in a model",
     "write `raw_shop.orders` instead of `{{ source('shop', 'orders') }}`"),
    ("{{ config(materialized='incremental', unique_key='id') }}\nselect 1 as id", "1:1", "Jinja in a model",
     "header comments at the top of the file: `-- materialized: incremental`; `-- unique_key: id`"),
    ("select 1 as x {% if is_incremental() %} where 1 = 1 {% endif %}", "1:15", "{% if is_incremental() %}",
     "models are plain SQL, no templating"),
    ("-- materialized='table'\nselect 1 as x", "1:1", "`-- materialized='table'` is not a config line here",
     "write `-- materialized: table`"),
    ("-- description = \"Orders\"\nselect 1 as x", "1:1", "is not a config line here",
     "write `-- description: Orders`"),
])
def test_dbt_habits_are_errors_that_say_what_to_write(tmp_path: Path, sql, where, message, hint):
    path = tmp_path / "m.sql"
    path.write_text(sql)
    with pytest.raises(ModelError) as err:
        parse_model(path, tmp_path)
    assert f"{path}:{where}: " in str(err.value) and message in str(err.value) and hint in str(err.value)


def test_a_free_comment_with_an_equals_sign_is_still_a_comment(tmp_path: Path):
    path = tmp_path / "m.sql"
    path.write_text("-- x = 1 for the old rows\nselect 1 as x")
    assert parse_model(path, tmp_path).materialized == "view"


def test_lint_shows_the_source_line_with_a_caret(project_dir: Path):
    model = project_dir / "transforms" / "models" / "marts" / "bad.sql"
    model.write_text("-- materialized: table\nselect o.order_id\nfrom {{ ref('stg_orders') }} as o\n")
    result = elt(project_dir, "lint")
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "transforms/models/marts/bad.sql:3:6: L001 Jinja in a model: {{ ref('stg_orders') }} — write `stg_orders` "
        "instead of `{{ ref('stg_orders') }}`: models are read by name, and dependencies follow from the SQL"]
    assert result.stderr.splitlines()[:2] == ["   3 | from {{ ref('stg_orders') }} as o",
                                              "     |      ^"]


@pytest.mark.parametrize("sql, where, message", [
    ("select\n  order_id,\n  sum(amount as total\nfrom stg_orders\ngroup by 1\n", "4:14", "Expecting )"),
    ("select order_id\nfrom stg_orders\nwhere status = 'paid\n", "4:16",
     "a string or quoted name that is never closed"),
    ("select order_id\nfrom stg_orders o\njoin stg_customers c on o.customer_id = c.customer_id and\n", "4:55",
     "Required keyword: 'expression' missing for And"),
])
def test_a_syntax_error_points_at_the_first_character_of_what_is_wrong(tmp_path: Path, sql: str, where: str,
                                                                       message: str):
    """sqlglot reports where a token ends (or, for an open quote, where the text ends): the caret goes under the
    token's first character, or the quote that is never closed; no sqlglot class names."""
    path = tmp_path / "m.sql"
    path.write_text("-- materialized: table\n" + sql)
    with pytest.raises(ModelError) as err:
        parse_model(path, tmp_path)
    assert f"{path}:{where}: syntax error: {message}" in str(err.value)
