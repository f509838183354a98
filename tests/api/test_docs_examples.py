"""docs/api.md's first examples are what a new user runs against `make run`: each day, week
and paper they name must be in the bundled sample, or the first three commands print
"No results found." and "not found"."""

import datetime as dt
import re
from pathlib import Path

import dailypapers

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
SAMPLE = Path(dailypapers.__file__).parent / "sample"


def _examples():
    """The text of the doc's first two code blocks (the HfApi and the hf CLI examples)."""
    blocks = re.findall(r"```(?:python|sh)\n(.*?)```", DOC.read_text(), flags=re.S)
    return "\n".join(blocks[:2])


def _sample_days():
    return {
        dt.date.fromisoformat(path.stem[len("hf-daily-") :])
        for path in SAMPLE.glob("hf-daily-*.json")
    }


def test_the_first_examples_name_days_weeks_and_papers_of_the_sample():
    text = _examples()
    days = re.findall(r'(?:date="|--date )(\d{4}-\d{2}-\d{2})', text)
    weeks = re.findall(r'(?:week="|--week )(\d{4})-W(\d{2})', text)
    papers = re.findall(r'(?:paper_info\("|hf papers info )(\d{4}\.\d{4,5})', text)
    assert days and weeks and papers, "the examples name a day, a week and a paper"
    sample_days = _sample_days()
    for day in days:
        assert dt.date.fromisoformat(day) in sample_days, day
    for year, number in weeks:
        week = {dt.date.fromisocalendar(int(year), int(number), n) for n in range(1, 8)}
        assert week & sample_days, f"{year}-W{number}"
    sample_text = "".join(path.read_text() for path in SAMPLE.glob("hf-daily-*.json"))
    for paper in papers:
        assert f'"{paper}"' in sample_text, paper
