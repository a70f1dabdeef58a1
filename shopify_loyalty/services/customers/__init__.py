"""Customers in the program: enrolment, profiles, portal reads, adjustments, imports, privacy."""
