"""The help panels every command's options are grouped into, in one table: at 80 columns, 40
options in one box left each help text a column a few words wide, and a reader looked through all
of them for the one about labels."""

from typer.core import TyperCommand

DATA, MODEL, TRAINING, SEARCH, PREDICTION, DEVICE, OUTPUT = (
    "Data and labels", "Model", "Training", "Search", "Prediction", "Device", "Output")
PANELS = {
    DATA: ("valid", "valid_pct", "folds", "balance", "label_re", "pets", "csv", "old_csv", "label_col", "lengths",
           "no_labels"),
    MODEL: ("arch", "pretrained", "weights", "init", "member", "rocket", "method", "size", "scaling", "colormap"),
    TRAINING: ("epochs", "freeze_epochs", "lr", "lr_mult", "bs", "augment", "early_stop", "wd", "dropout",
               "label_smoothing", "mixup", "cutmix", "opt", "seed", "iters", "resume", "config"),
    SEARCH: ("trials", "timeout", "space", "storage", "study"),
    PREDICTION: ("top_k", "tta", "min_confidence", "coverage", "class_conditional", "class_", "rows"),
    DEVICE: ("device", "precision", "workers", "devices"),
    OUTPUT: ("out", "out_dir", "overwrite", "plot", "strict", "split", "image_format", "confusion_plot", "csv_report",
             "tensorboard", "callback", "quiet", "json_"),
}
PANEL_OF = {name: panel for panel, names in PANELS.items() for name in names}
# Where a command reads an option otherwise: predict prints CSV (not labels from one) and batches
# predictions; check's seed draws the validation split.
OWN_PANELS = {"image": {"csv": OUTPUT, "bs": PREDICTION}, "series": {"csv": OUTPUT, "bs": PREDICTION},
              "evaluate": {"bs": PREDICTION}, "check": {"seed": DATA}}


class PanelledCommand(TyperCommand):
    """A command whose options sit in the panel ``PANELS`` gives them (arguments stay in their own)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        own = OWN_PANELS.get(self.name, {})
        for param in self.params:
            if param.param_type_name == "option" and param.name in PANEL_OF:
                param.rich_help_panel = own.get(param.name, PANEL_OF[param.name])
        order = list(PANELS)  # panels are drawn in the order their first option comes
        self.params.sort(key=lambda param: order.index(param.rich_help_panel) + 1
                         if getattr(param, "rich_help_panel", None) in order else 0)

    def get_help_option(self, ctx):
        """--help, which click adds when the help is drawn, goes with the other output options."""
        option = super().get_help_option(ctx)
        if option is not None:
            option.rich_help_panel = OUTPUT
        return option
