# Datasets on which metafor's default Fisher scoring for REML does not converge, with the REML fit that
# metafor reaches with its documented remedy (step halving: stepadj = 0.5, more iterations).
# whatworks must converge on them by default and agree. Writes tests/reference/convergence.json.
# Run from the repository root: Rscript tests/reference/convergence.R
suppressMessages(library(metafor))
library(jsonlite)

set.seed(20261127)
cases <- list()
tries <- 0
while (length(cases) < 4 && tries < 20000) {
  tries <- tries + 1
  k <- 20
  vi <- runif(k, 0.01, 0.3)
  yi <- rnorm(k, -0.3, sqrt(0.1 + vi))
  default <- tryCatch(rma(yi, vi, method = "REML"), error = function(e) conditionMessage(e))
  if (!is.character(default)) next
  fit <- rma(yi, vi, method = "REML", control = list(stepadj = 0.5, maxiter = 10000, threshold = 1e-12))
  cases[[length(cases) + 1]] <- list(
    yi = yi, vi = vi, default_error = default,
    fit = list(tau2 = fit$tau2, estimate = c(fit$beta), se = fit$se, ci_low = fit$ci.lb, ci_high = fit$ci.ub,
               i2 = fit$I2, loglik_reml = fit$fit.stats["ll", "REML"])
  )
}
out <- list(
  meta = list(generator = "tests/reference/convergence.R", generated = as.character(Sys.Date()),
              metafor_version = as.character(packageVersion("metafor")), r_version = R.version.string,
              datasets_tried = tries,
              note = "rma(yi, vi, method='REML') fails with default control; fit = control(stepadj=0.5, maxiter=10000, threshold=1e-12)"),
  cases = cases
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "tests/reference/convergence.json")
