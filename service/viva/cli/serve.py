"""`viva serve` (owned by the service work; placeholder until it lands)."""
