"""Access control: `policy` decides, `fields` applies it to GraphQL fields."""
