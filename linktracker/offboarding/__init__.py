"""An employee who left: erasing the person while their program figures stay."""
