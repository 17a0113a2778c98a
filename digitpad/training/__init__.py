"""The trainer's room: data, augmentation, styles, non-digits, the models, train, fine-tune,
the report and its figures, ship."""
