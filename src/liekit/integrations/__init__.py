"""Layer 4: integrations — plots, scikit-learn / pysindy adapters, torch modules."""
