# REML and ML on data whose sampling variances span many orders of magnitude (issue 11, item 3): the
# likelihood is badly scaled, metafor warns "Ratio of largest to smallest sampling variance extremely
# large" (max(vi) / min(vi) >= 1e7), and an iteration that stops early reports a wrong tau2.
# Each case is fitted with the first control setting (in the order below) under which metafor's Fisher
# scoring converges; `control_used` records it, `warnings` what rma() said.
# Writes tests/reference/extreme_ratio.json. Run from the repository root:
#   Rscript tests/reference/extreme_ratio.R
suppressMessages(library(metafor))
library(jsonlite)

controls <- list(
  list(threshold = 1e-12, maxiter = 10000, stepadj = 0.5),
  list(threshold = 1e-12, maxiter = 100000, stepadj = 0.1),
  list(threshold = 1e-12, maxiter = 1000000, stepadj = 0.01)
)
confint_control <- list(tol = 1e-12, maxiter = 10000)

fit_case <- function(yi, vi, method) {
  for (ctrl in controls) {
    warn <- character(0)
    fit <- withCallingHandlers(
      tryCatch(rma(yi, vi, method = method, control = ctrl), error = function(e) NULL),
      warning = function(w) { warn <<- c(warn, conditionMessage(w)); invokeRestart("muffleWarning") })
    if (is.null(fit)) next
    ci <- tryCatch(suppressWarnings(confint(fit, control = confint_control)$random), error = function(e) NULL)
    return(list(
      control_used = ctrl, warnings = I(warn),
      tau2 = fit$tau2, estimate = c(fit$beta), se = fit$se, ci_low = fit$ci.lb, ci_high = fit$ci.ub,
      i2 = fit$I2, q = fit$QE,
      tau2_ci_low = if (is.null(ci)) NULL else ci["tau^2", "ci.lb"],
      tau2_ci_high = if (is.null(ci)) NULL else ci["tau^2", "ci.ub"]
    ))
  }
  list(error = "no control setting converged")
}

datasets <- list(list(description = "issue 11 item 3: two near-exact contradicting effects",
                      yi = c(.1, .2, .3, 5), vi = c(1e-12, 1e4, .04, 1e-12)))
set.seed(20261201)
for (i in 1:8) {
  k <- c(5, 8, 12, 20, 30, 6, 15, 40)[i]
  lo <- c(-10, -8, -6, -12, -4, -9, -7, -5)[i]
  hi <- c(2, 3, 4, 1, 4, 0, 2, 3)[i]
  vi <- 10^runif(k, lo, hi)
  tau2 <- c(0.5, 0.05, 2, 0.001, 0.2, 1e-6, 0.3, 0)[i]
  yi <- round(rnorm(k, 0.2, sqrt(tau2 + vi)), 6)
  datasets[[length(datasets) + 1]] <- list(
    description = sprintf("simulated: k = %d, log10 vi ~ U(%g, %g), true tau2 = %g", k, lo, hi, tau2),
    yi = yi, vi = vi)
}

cases <- list()
for (d in datasets) for (method in c("REML", "ML")) {
  cases[[length(cases) + 1]] <- list(description = d$description, yi = d$yi, vi = d$vi, method = method,
                                     fit = fit_case(d$yi, d$vi, method))
}
out <- list(
  meta = list(generator = "tests/reference/extreme_ratio.R", generated = as.character(Sys.Date()),
              r_version = R.version.string, metafor_version = as.character(packageVersion("metafor")),
              jsonlite_version = as.character(packageVersion("jsonlite")),
              controls_tried = controls, confint_control = confint_control),
  cases = cases
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, null = "null"), "tests/reference/extreme_ratio.json")
