"""Polls: motions and elections, by phone, on paper or by a show of cards."""
