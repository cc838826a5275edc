"""The district tier's services, above every board: what district staff do and read across communities."""
