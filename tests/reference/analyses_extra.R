# Extra metafor reference values for tests/test_regression.py: predict() of meta-regressions.
#
# Run from the repository root:
#     Rscript tests/reference/analyses_extra.R
#
# Writes analyses_extra.json next to this script. Like metafor_reference.R, it embeds its inputs, uses
# the same tight convergence control, and is deterministic (only meta$generated changes on a rerun).
# Structure: {"meta", "data": {yi, vi, ablat, alloc}, "predict": [{formula, method, test, newdata:
# {ablat, alloc}, pred, se, ci_low, ci_high, pi_low, pi_high}]}.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

CTL <- list(threshold = 1e-12, maxiter = 10000, stepadj = 0.5, tol = 1e-12)
out_dir <- local({
  arg <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
  if (length(arg) == 1L) dirname(normalizePath(sub("^--file=", "", arg))) else "tests/reference"
})
arr <- function(x) I(unname(as.numeric(x)))

bcg <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
new <- data.frame(ablat = c(10, 33, 55), alloc = c("random", "alternate", "systematic"))

predict_case <- function(formula, method, test) {
  fit <- rma(yi, vi, mods = as.formula(formula), data = bcg, method = method, test = test, control = CTL)
  X <- model.matrix(as.formula(formula), data = transform(new, alloc = factor(alloc, levels = sort(unique(bcg$alloc)))))
  p <- predict(fit, newmods = X[, -1, drop = FALSE])
  is_ee <- method == "EE"
  list(formula = formula, method = method, test = test,
       newdata = list(ablat = arr(new$ablat), alloc = I(new$alloc)),
       pred = arr(p$pred), se = arr(p$se), ci_low = arr(p$ci.lb), ci_high = arr(p$ci.ub),
       pi_low = arr(if (is_ee) p$ci.lb else p$pi.lb), pi_high = arr(if (is_ee) p$ci.ub else p$pi.ub))
}

cases <- list()
for (spec in list(c("~ ablat", "REML", "z"), c("~ ablat", "REML", "knha"), c("~ ablat", "EE", "z"),
                  c("~ factor(alloc) + ablat", "DL", "z"), c("~ factor(alloc) + ablat", "REML", "knha"))) {
  cases[[length(cases) + 1L]] <- predict_case(spec[1], spec[2], spec[3])
}

out <- list(
  meta = list(generator = "tests/reference/analyses_extra.R", generated = format(Sys.Date()),
              r_version = R.version.string, metafor_version = as.character(packageVersion("metafor")),
              control = CTL),
  data = list(yi = arr(bcg$yi), vi = arr(bcg$vi), ablat = arr(bcg$ablat), alloc = I(bcg$alloc)),
  predict = cases
)
path <- file.path(out_dir, "analyses_extra.json")
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null", null = "null", pretty = 1), path)
cat(sprintf("wrote %s\n", path))
