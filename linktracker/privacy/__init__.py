"""Privacy: a customer's data found, exported and erased; CRM records kept only so long."""
