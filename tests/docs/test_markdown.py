"""The shared Markdown reader on small pages whose every shape it must get right."""

from __future__ import annotations

from tests.docs.markdown import (
    blocks,
    console_commands,
    headings,
    numbered_sections,
    section,
    sections,
    table_rows,
)

PAGE = """# Title

## 1. First

```console
$ a \\
    b
out
$ for x in 1 2; do
  echo "$x"
done
1
```

```bash
# not a heading
echo hi
```

### Verify

1. In a list:

   ```console
   $ c
   ```

| name | value |
| --- | --- |
| `x` | a \\| b |

## 2. Second

text
"""


def test_console_commands_join_continuations_and_loops_and_keep_output() -> None:
    found = [(c.line, c.text, c.output) for c in console_commands(PAGE, "page.md")]
    assert found == [
        (6, "a b", ("out",)),
        (9, 'for x in 1 2; do\necho "$x"\ndone', ("1",)),
        (25, "c", ()),
    ]


def test_blocks_have_their_language_line_and_dedented_lines() -> None:
    assert [(b.language, b.line) for b in blocks(PAGE)] == [
        ("console", 6),
        ("bash", 16),
        ("console", 25),
    ]
    (indented,) = [b for b in blocks(PAGE, "console") if b.line == 25]
    assert indented.lines == ("$ c",)
    assert blocks(PAGE, "bash")[0].text == "# not a heading\necho hi\n"


def test_a_hash_line_in_a_fence_is_no_heading() -> None:
    assert [(h.level, h.title) for h in headings(PAGE)] == [
        (1, "Title"),
        (2, "1. First"),
        (3, "Verify"),
        (2, "2. Second"),
    ]


def test_a_section_ends_at_the_next_heading_of_its_level_or_higher() -> None:
    first = section(PAGE, "1. First")
    assert "### Verify" in first
    assert "## 2. Second" not in first
    assert section(PAGE, "Verify").startswith("\n1. In a list:")
    assert sections(PAGE, 3) == {"Verify": section(PAGE, "Verify")}
    assert numbered_sections(PAGE, 2) == {"1": first, "2": "\ntext\n"}


def test_table_rows_leave_out_header_and_separator_and_keep_escaped_pipes() -> None:
    assert table_rows(PAGE) == [["`x`", "a \\| b"]]
