"""The HTML report of a run or a sweep: one self-contained file a planner can open anywhere."""
