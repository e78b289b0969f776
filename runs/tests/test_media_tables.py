"""A logged table's page, order, filter and CSV: the logic, on tables held in memory, and its
answers to any parameters and any cells."""

import csv
import io
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runs.media.tables import (
    PAGE_SIZE,
    LoggedTable,
    TableQueryError,
    make_cell,
    parse_table_query,
    sort_key,
    table_csv_lines,
    table_page,
)

IMAGE = {"_type": "image-file", "path": "media/images/a.png", "caption": "cat"}


def numbered(count: int) -> LoggedTable:
    return LoggedTable(["id", "name"], [[n, f"row {n}"] for n in range(count)])


def page_of(table, **params):
    return table_page(table, parse_table_query(params, table.columns))


def ids(page, column=0):
    return [row.cells[column].text for row in page.rows]


# Paging


def test_rows_come_a_page_at_a_time():
    table = numbered(60)

    first, third = page_of(table), page_of(table, page="3")

    assert (first.pages, first.page, len(first.rows)) == (3, 1, PAGE_SIZE)
    assert ids(first)[0] == "0" and ids(third) == [str(n) for n in range(50, 60)]
    assert (third.first_row, third.last_row, third.total_rows) == (51, 60, 60)
    assert [row.number for row in third.rows][:2] == [51, 52]


def test_a_page_past_the_last_shows_the_last():
    page = page_of(numbered(30), page="99")

    assert page.page == 2 and ids(page) == [str(n) for n in range(25, 30)]


def test_an_empty_table_has_one_empty_page():
    page = page_of(LoggedTable(["a"], []))

    assert (page.pages, page.rows, page.total_rows) == (1, [], 0)


@pytest.mark.parametrize(
    "params",
    [
        {"page": "two"},
        {"page": "-1"},
        {"page": "1.5"},
        {"page": "9" * 30},
        {"sort": "nope"},
        {"col": "nope"},
        {"desc": "maybe"},
        {"q": "x" * 1001},
    ],
)
def test_parameters_that_do_not_fit_are_refused(params):
    with pytest.raises(TableQueryError):
        parse_table_query(params, ["id", "name"])


def test_page_links_show_the_ends_and_the_pages_near():
    url = lambda params: "?" + "&".join(f"{k}={v}" for k, v in sorted(params.items()))  # noqa: E731
    page = table_page(numbered(500), parse_table_query({"page": "10"}, ["id", "name"]), url)

    assert [link.number for link in page.page_links] == [1, None, 8, 9, 10, 11, 12, None, 20]
    assert page.previous_url == "?page=9" and page.next_url == "?page=11"
    assert [head.url for head in page.heads] == ["?sort=id", "?sort=name"]


# Sorting


MIXED = [3, "b", None, 1.5, True, "A", IMAGE, [1, 2], {"k": 1}, -2, math.nan, "a", False, 10**30]


def test_mixed_cells_sort_numbers_first_then_text_then_media_then_json_and_empty_last():
    table = LoggedTable(["v"], [[value] for value in MIXED])

    shown = ids(page_of(table, sort="v"))

    assert shown == [
        "-2",
        "1.5",
        "3",
        "1000000000000000000000000000000",
        "false",
        "true",
        "A",
        "a",  # text ignores case; ties keep the logged order
        "b",
        "media/images/a.png",
        "[1,2]",
        '{"k":1}',
        "NaN",
        "",
    ]


def test_descending_reverses_the_values_and_keeps_empty_cells_last():
    table = LoggedTable(["v"], [[value] for value in [2, None, 10, "x", 1]])

    assert ids(page_of(table, sort="v", desc="1")) == ["x", "10", "2", "1", ""]


def test_sorting_is_stable_for_ties():
    table = LoggedTable(["k", "n"], [[1, "first"], [0, "zero"], [1, "second"], [1, "third"]])

    assert ids(page_of(table, sort="k"), 1) == ["zero", "first", "second", "third"]
    assert ids(page_of(table, sort="k", desc="1"), 1) == ["first", "second", "third", "zero"]


# Filtering


def test_the_filter_keeps_rows_with_the_text_in_any_cell_ignoring_case():
    table = LoggedTable(
        ["id", "label", "extra"],
        [[1, "Cat", None], [2, "dog", {"note": "cat food"}], [3, "bird", IMAGE], [13, "x", 0]],
    )

    assert ids(page_of(table, q="CAT")) == ["1", "2"]
    assert ids(page_of(table, q="a.png")) == ["3"]  # media by their path
    assert ids(page_of(table, q="3")) == ["3", "13"]  # numbers as shown
    page = page_of(table, q="cat", col="label")
    assert ids(page) == ["1"] and (page.matching_rows, page.total_rows) == (1, 4)


def test_a_comparison_on_a_column_compares_numbers():
    table = LoggedTable(["score"], [[0.2], [0.7], ["0.9"], [None], [True], [0.5]])

    assert ids(page_of(table, q="> 0.5", col="score")) == ["0.7"]
    assert ids(page_of(table, q=">=0.5", col="score")) == ["0.7", "0.5"]
    assert ids(page_of(table, q="=0.2", col="score")) == ["0.2"]
    # Without a column the same text is searched as text.
    assert ids(page_of(table, q="> 0.5")) == []


# Cells


def test_long_text_is_cut_with_the_whole_text_kept():
    cell = make_cell("word " * 100)

    assert len(cell.text) == 120 and cell.text.endswith("…") and cell.full == "word " * 100


def test_cells_by_kind():
    assert (make_cell(None).kind, make_cell(None).text) == ("empty", "")
    assert (make_cell(0.1).kind, make_cell(0.1).text) == ("number", "0.1")
    long_float = make_cell(1 / 3)
    assert (long_float.text, long_float.full) == ("0.333333", "0.3333333333333333")
    assert make_cell({"a": [1, "é"]}).text == '{"a":[1,"é"]}'
    image = make_cell(IMAGE)
    assert (image.kind, image.text, image.caption) == ("image", "media/images/a.png", "cat")
    audio = make_cell({"_type": "audio-file", "path": "media/audio/a.wav"})
    assert (audio.kind, audio.text) == ("media", "media/audio/a.wav")
    assert make_cell({"_type": "image-file"}).kind == "json"  # no file named


# CSV


def read_csv(table):
    return list(csv.reader(io.StringIO("".join(table_csv_lines(table)))))


def test_the_csv_holds_every_row_with_commas_quotes_newlines_and_unicode_intact():
    table = LoggedTable(
        ["id", "text, quoted"],
        [[n, f'a, "b"\nc ✓ {n}'] for n in range(40)] + [[None, IMAGE], [1.5, {"k": [1]}]],
    )

    rows = read_csv(table)

    assert rows[0] == ["id", "text, quoted"]
    assert len(rows) == 43 and rows[40] == ["39", 'a, "b"\nc ✓ 39']
    assert rows[41:] == [["", "media/images/a.png"], ["1.5", '{"k":[1]}']]


def test_the_csv_keeps_text_that_starts_a_formula_as_text():
    table = LoggedTable(["=cmd"], [["=HYPERLINK(1)"], ["+1"], ["-x"], ["@sum"], [-5], ["plain"]])

    rows = read_csv(table)

    assert rows == [["'=cmd"], ["'=HYPERLINK(1)"], ["'+1"], ["'-x"], ["'@sum"], ["-5"], ["plain"]]


# Any cells, any parameters: an answer or a clear refusal, never a crash


CELLS = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.just(IMAGE)
    | st.builds(lambda path: {"_type": "video-file", "path": path}, st.text(max_size=5)),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=4,
)
PARAM = st.one_of(st.text(max_size=6), st.sampled_from(["", "0", "1", "2", "a", "b", "> 1"]))


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(st.lists(CELLS, max_size=3), max_size=60),
    params=st.dictionaries(st.sampled_from(["page", "sort", "desc", "q", "col"]), PARAM),
)
def test_any_cells_and_parameters_give_a_page_or_a_clear_refusal(rows, params):
    table = LoggedTable(["a", "b"], [[*row, None, None][:2] for row in rows])
    try:
        query = parse_table_query(params, table.columns)
    except TableQueryError:
        return
    page = table_page(table, query, lambda params: "?")

    assert 1 <= page.page <= page.pages and len(page.rows) <= PAGE_SIZE
    assert page.matching_rows <= page.total_rows == len(rows)
    if query.sort:
        index = table.columns.index(query.sort)
        everything = table_page(table, query.__class__(1, query.sort, query.desc, query.q))
        everything_rows = [table.rows[row.number - 1][index] for row in everything.rows]
        present = [value for value in everything_rows if value is not None]
        assert everything_rows[: len(present)] == present  # empty cells last
        keys = [sort_key(value) for value in present]
        assert keys == sorted(keys, reverse=query.desc)
    assert len(read_csv(table)) == len(rows) + 1
