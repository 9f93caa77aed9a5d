# Reference values for the finding's strategy contrasts (tests/test_finding_contrast.py).
#
# Input: tests/reference/finding_fixture.csv, a frozen snapshot (yi, vi rounded to 6 decimals) of the
# primary rows of the four Masi strategies as computed by whatworks on 2026-11-27; the test reads the
# same file, so the snapshot only has to be fixed, not current.
# Output: tests/reference/finding.json. Run from the repository root:
#   Rscript tests/reference/finding.R
suppressPackageStartupMessages({library(metafor); library(jsonlite); library(clubSandwich)})

dat <- read.csv("tests/reference/finding_fixture.csv", stringsAsFactors = FALSE)
ctrl <- list(threshold = 1e-12, maxiter = 10000, stepadj = 0.5, tol = 1e-12)

fields <- function(fit) {
  list(coef = unname(coef(fit)), names = names(coef(fit)), se = unname(fit$se), ci_low = unname(fit$ci.lb),
       ci_high = unname(fit$ci.ub), pvalue = unname(fit$pval), tau2 = fit$tau2, k = fit$k,
       qm = fit$QM, qm_pvalue = fit$QMp, df = if (is.null(fit$ddf)) NA else unname(fit$ddf[1]))
}

cases <- list()
for (method in c("REML", "DL", "PM")) {
  for (test in c("knha", "z")) {
    factor_fit <- rma(yi, vi, mods = ~ relevel(factor(strategy), "social_cognition"), data = dat,
                      method = method, test = test, control = ctrl)
    binary_fit <- rma(yi, vi, mods = ~ I(strategy != "social_cognition"), data = dat,
                      method = method, test = test, control = ctrl)
    cases[[length(cases) + 1]] <- list(method = method, test = test, factor = fields(factor_fit),
                                       binary = fields(binary_fit))
  }
}

# CR2 (clubSandwich) for the REML binary model, clusters = study_id
fit <- rma(yi, vi, mods = ~ I(strategy != "social_cognition"), data = dat, method = "REML", control = ctrl)
ct <- coef_test(fit, vcov = "CR2", cluster = dat$study_id, test = "Satterthwaite")
ci <- conf_int(fit, vcov = "CR2", cluster = dat$study_id, test = "Satterthwaite")
cr2 <- list(coef = unname(ct$beta), se = unname(ct$SE), df = unname(ct$df_Satt), pvalue = unname(ct$p_Satt),
            ci_low = unname(ci$CI_L), ci_high = unname(ci$CI_U))

# Egger's test of the contrast model (GRADE's publication-bias domain): regtest() of the binary model adds
# sqrt(vi) as a moderator; the test is on its coefficient.
regtests <- list()
for (test in c("knha", "z")) {
  binary_fit <- rma(yi, vi, mods = ~ I(strategy != "social_cognition"), data = dat, method = "REML", test = test,
                    control = ctrl)
  rt <- regtest(binary_fit)
  adj <- rma(yi, vi, mods = ~ I(strategy != "social_cognition") + sqrt(vi), data = dat, method = "REML",
             test = test, control = ctrl)
  regtests[[length(regtests) + 1]] <- list(method = "REML", test = test, stat = unname(rt$zval),
                                           pvalue = unname(rt$pval), df = if (is.null(rt$ddf)) NA else rt$ddf,
                                           adjusted = fields(adj))
}

meta <- list(generated = format(Sys.time(), "%Y-%m-%d"), R = R.version.string,
             metafor = as.character(packageVersion("metafor")),
             clubSandwich = as.character(packageVersion("clubSandwich")),
             call_factor = 'rma(yi, vi, mods = ~ relevel(factor(strategy), "social_cognition"), method, test)',
             call_binary = 'rma(yi, vi, mods = ~ I(strategy != "social_cognition"), method, test)',
             call_cr2 = 'coef_test(rma(..., binary, method = "REML"), vcov = "CR2", cluster = study_id)')
write_json(list(meta = meta, cases = cases, cr2 = cr2, regtest = regtests), "tests/reference/finding.json", digits = NA,
           auto_unbox = TRUE, pretty = TRUE, na = "null")
