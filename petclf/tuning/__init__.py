"""petclf tune: a hyperparameter search over petclf train's options, on Optuna."""
