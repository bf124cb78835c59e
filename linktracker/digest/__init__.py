"""The weekly digest email: new campaigns with each employee's links, their week, their rank."""
