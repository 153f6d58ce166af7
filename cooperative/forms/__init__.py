"""WTForms classes, one module per area. Labels and messages are lazy strings."""
