"""What the numbers say: reports, their exact merge, running totals, comparisons, findings."""
