"""Group Analyst: progress reporting for the student groups assigned to each analyst."""
