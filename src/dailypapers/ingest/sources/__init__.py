"""One module per source; each turns its input into PaperRecord/DailyRecord or Rejected."""
