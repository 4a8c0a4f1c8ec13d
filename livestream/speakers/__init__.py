"""The speakers' list: requests from the phones, the secretariat's additions, the
presidium's queue and the speaker's timer."""
