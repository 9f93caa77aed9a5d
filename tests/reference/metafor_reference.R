# Reference values from R's metafor for the whatworks test suite.
#
# Run from the repository root:
#     Rscript tests/reference/metafor_reference.R
#
# Writes rma.json, subgroups.json, regression.json and bias.json next to this script. Every JSON file
# embeds its inputs (yi, vi, moderators, groups), so the Python tests need neither R nor metadat.
# Nothing here is random; rerunning with the same R/metafor versions gives the same numbers (only
# meta$generated changes). See README.md in this folder for the structure of each file.

suppressPackageStartupMessages({
  library(metafor)   # also attaches metadat (the datasets)
  library(jsonlite)
})

# ---------------------------------------------------------------------------------------------------
# Settings

# Tight convergence. In metafor 3.8 rma.uni(): `threshold` and `maxiter` drive the Fisher scoring
# loop of ML/REML/EB (stepadj = 0.5 halves each step, which makes it robust); `tol` and `maxiter`
# drive uniroot() for PM. DL, HS, HE and SJ are closed-form (SJ is the one-step, non-iterated
# estimator). Unused names are ignored, so one list serves every method.
CTL <- list(threshold = 1e-12, maxiter = 10000, stepadj = 0.5, tol = 1e-12)
# confint() has its own uniroot tolerance (default .Machine$double.eps^0.25 ~ 1.2e-4): tighten it.
CI_CTL <- list(tol = 1e-12, maxiter = 10000)

METHODS <- c("EE", "DL", "REML", "ML", "PM", "HS", "SJ", "HE", "EB")
TESTS <- c("z", "knha")

out_dir <- local({
  arg <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
  if (length(arg) == 1L) dirname(normalizePath(sub("^--file=", "", arg))) else "tests/reference"
})

meta <- list(
  generator = "tests/reference/metafor_reference.R",
  generated = format(Sys.Date()),
  r_version = R.version.string,
  metafor_version = as.character(packageVersion("metafor")),
  metadat_version = as.character(packageVersion("metadat")),
  jsonlite_version = as.character(packageVersion("jsonlite")),
  control = CTL,
  confint_control = CI_CTL
)

# ---------------------------------------------------------------------------------------------------
# Helpers

# Always a JSON array, even for length 1; an absent component (NULL) becomes null.
arr <- function(x) if (is.null(x)) NA else I(unname(as.numeric(x)))
num <- function(x) if (is.null(x) || length(x) == 0L) NA_real_ else unname(as.numeric(x)[1])
strs <- function(x) I(unname(as.character(x)))

# Evaluate expr, collecting warnings instead of printing them; errors become list(error = msg).
capture <- function(expr) {
  warns <- character(0)
  value <- withCallingHandlers(
    tryCatch(expr, error = function(e) structure(list(message = conditionMessage(e)), class = "failed")),
    warning = function(w) {
      warns <<- c(warns, conditionMessage(w))
      invokeRestart("muffleWarning")
    }
  )
  list(value = value, warnings = warns)
}
failed <- function(x) inherits(x, "failed")

write_json_file <- function(obj, name) {
  path <- file.path(out_dir, name)
  txt <- toJSON(obj, auto_unbox = TRUE, digits = NA, na = "null", null = "null", pretty = 1)
  writeLines(txt, path)
  cat(sprintf("wrote %s (%.0f kB)\n", path, file.size(path) / 1024))
}

fit_rma <- function(yi, vi, method, test = "z", level = 95, mods = NULL, data = NULL) {
  if (is.null(mods)) {
    capture(rma(yi = yi, vi = vi, method = method, test = test, level = level, control = CTL))
  } else {
    capture(rma(yi = yi, vi = vi, mods = mods, data = data, method = method, test = test,
                level = level, control = CTL))
  }
}

tau2_confint <- function(fit) {
  if (fit$method %in% c("EE", "FE", "CE")) return(list(value = NULL, warnings = character(0)))
  capture(confint(fit, control = CI_CTL)$random)
}

# The fields of one intercept-only fit (names are the whatworks / MetaResult names).
fit_fields <- function(fit, warnings = character(0)) {
  ci <- tau2_confint(fit)
  rnd <- ci$value
  has_ci <- !is.null(rnd) && !failed(rnd)
  pr <- predict(fit)
  is_ee <- fit$method %in% c("EE", "FE", "CE")
  fll <- fit$fit.stats
  list(
    method_used = fit$method,
    test_used = fit$test,
    level = 1 - fit$level,
    k = fit$k,
    estimate = num(fit$beta),
    se = num(fit$se),
    stat = num(fit$zval),
    pvalue = num(fit$pval),
    ci_low = num(fit$ci.lb),
    ci_high = num(fit$ci.ub),
    df = if (fit$test == "z") NA else num(fit$dfs),
    tau2 = num(fit$tau2),
    se_tau2 = num(fit$se.tau2),
    tau2_ci_low = if (has_ci) num(rnd["tau^2", "ci.lb"]) else NA,
    tau2_ci_high = if (has_ci) num(rnd["tau^2", "ci.ub"]) else NA,
    i2_ci_low = if (has_ci) num(rnd["I^2(%)", "ci.lb"]) else NA,
    i2_ci_high = if (has_ci) num(rnd["I^2(%)", "ci.ub"]) else NA,
    h2_ci_low = if (has_ci) num(rnd["H^2", "ci.lb"]) else NA,
    h2_ci_high = if (has_ci) num(rnd["H^2", "ci.ub"]) else NA,
    i2 = num(fit$I2),
    h2 = num(fit$H2),
    q = num(fit$QE),
    q_df = fit$k - fit$p,
    q_pvalue = num(fit$QEp),
    # predict() of an EE model has no pi.lb/pi.ub: the prediction interval is the CI there.
    pi_low = if (is_ee) num(pr$ci.lb) else num(pr$pi.lb),
    pi_high = if (is_ee) num(pr$ci.ub) else num(pr$pi.ub),
    weights = arr(weights(fit)),
    vt = num(fit$vt),
    s2w = num(fit$s2w),
    loglik_ml = num(fll["ll", "ML"]),
    loglik_reml = num(fll["ll", "REML"]),
    iterations = NA,   # rma.uni() in metafor 3.8 does not store the iteration count
    warnings = strs(warnings),
    confint_warnings = strs(ci$warnings),
    confint_error = if (!is.null(rnd) && failed(rnd)) rnd$message else NA
  )
}

# ---------------------------------------------------------------------------------------------------
# Datasets

bcg <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
normand <- escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
                  data = dat.normand1999)
molloy <- escalc("ZCOR", ri = ri, ni = ni, data = dat.molloy2014)
hack <- dat.hackshaw1998

datasets <- list(
  bcg = list(
    description = "dat.bcg, escalc('RR', ai=tpos, bi=tneg, ci=cpos, di=cneg): log risk ratios",
    yi = bcg$yi, vi = bcg$vi),
  normand1999 = list(
    description = "dat.normand1999, escalc('SMD', m1i, sd1i, n1i, m2i, sd2i, n2i): Hedges' g",
    yi = normand$yi, vi = normand$vi),
  molloy2014 = list(
    description = "dat.molloy2014, escalc('ZCOR', ri, ni): Fisher z",
    yi = molloy$yi, vi = molloy$vi),
  hackshaw1998 = list(
    description = "dat.hackshaw1998, yi and vi as given in the dataset (log odds ratios)",
    yi = hack$yi, vi = hack$vi),
  hackshaw1998_first5 = list(
    description = paste("dat.hackshaw1998 rows 1-5: Q = 4.37 on 4 df; REML, ML, HS and HE put tau2",
                        "on the boundary (tau2 = 0), DL, PM, EB and SJ give small positive values"),
    yi = hack$yi[1:5], vi = hack$vi[1:5]),
  hackshaw1998_first4 = list(
    description = paste("dat.hackshaw1998 rows 1-4: Q = 1.31 < 3 df; every estimator but SJ gives",
                        "tau2 = 0; Q-profile CI for tau2 is [0, upper]"),
    yi = hack$yi[1:4], vi = hack$vi[1:4]),
  hackshaw1998_rows_1_4_11 = list(
    description = paste("dat.hackshaw1998 rows 1, 4 and 11 (the first triple in combn() order with",
                        "Q below the 2.5% chi-square quantile): Q = 0.027 on 2 df, so the Q-profile",
                        "CI for tau2 is empty and confint() reports both bounds as 0"),
    yi = hack$yi[c(1, 4, 11)], vi = hack$vi[c(1, 4, 11)]),
  bcg_k2 = list(
    description = "dat.bcg (log RR) rows 4 and 8 only: k = 2, heterogeneous",
    yi = bcg$yi[c(4, 8)], vi = bcg$vi[c(4, 8)]),
  bcg_k1 = list(
    description = paste("dat.bcg (log RR) row 1 only: k = 1. metafor fits it with tau2 = 0,",
                        "Q = 0, I2 = 0; test='knha' is replaced by test='z' with a warning"),
    yi = bcg$yi[1], vi = bcg$vi[1])
)

# ---------------------------------------------------------------------------------------------------
# rma.json: every method x test on every dataset, plus a few level = 90 cases

rma_case <- function(name, method, test, level = 95) {
  d <- datasets[[name]]
  f <- fit_rma(d$yi, d$vi, method, test, level)
  case <- list(dataset = name, yi = arr(d$yi), vi = arr(d$vi), method = method, test = test,
               level = level / 100)
  if (failed(f$value)) {
    case$fit <- NULL
    case$error <- f$value$message
    case$warnings <- strs(f$warnings)
  } else {
    case$fit <- fit_fields(f$value, f$warnings)
  }
  case
}

rma_cases <- list()
for (name in names(datasets)) {
  for (method in METHODS) {
    for (test in TESTS) rma_cases[[length(rma_cases) + 1L]] <- rma_case(name, method, test)
  }
}
for (spec in list(c("bcg", "REML", "z"), c("bcg", "REML", "knha"), c("bcg", "DL", "z"),
                  c("bcg", "EE", "z"), c("molloy2014", "PM", "knha"))) {
  rma_cases[[length(rma_cases) + 1L]] <- rma_case(spec[1], spec[2], spec[3], level = 90)
}

write_json_file(list(
  meta = meta,
  datasets = lapply(datasets, function(d) list(description = d$description, yi = arr(d$yi),
                                               vi = arr(d$vi))),
  cases = rma_cases
), "rma.json")

# ---------------------------------------------------------------------------------------------------
# Helpers for models with moderators

mods_fields <- function(fit, warnings = character(0)) {
  ci <- if (fit$method == "EE") list(value = NULL, warnings = character(0)) else tau2_confint(fit)
  rnd <- ci$value
  has_ci <- !is.null(rnd) && !failed(rnd)
  knha <- fit$test != "z"
  list(
    method_used = fit$method,
    test_used = fit$test,
    k = fit$k,
    p = fit$p,
    coef_names = strs(rownames(fit$beta)),
    coef = arr(fit$beta),
    se = arr(fit$se),
    stat = arr(fit$zval),
    pvalue = arr(fit$pval),
    ci_low = arr(fit$ci.lb),
    ci_high = arr(fit$ci.ub),
    df = if (knha) num(fit$dfs) else NA,
    vcov = lapply(seq_len(nrow(fit$vb)), function(i) arr(fit$vb[i, ])),
    tau2 = num(fit$tau2),
    se_tau2 = num(fit$se.tau2),
    tau2_ci_low = if (has_ci) num(rnd["tau^2", "ci.lb"]) else NA,
    tau2_ci_high = if (has_ci) num(rnd["tau^2", "ci.ub"]) else NA,
    qm = num(fit$QM),
    qm_df = num(fit$QMdf[1]),
    qm_df2 = if (knha) num(fit$QMdf[2]) else NA,
    qm_pvalue = num(fit$QMp),
    qe = num(fit$QE),
    qe_df = fit$k - fit$p,
    qe_pvalue = num(fit$QEp),
    r2 = if (is.null(fit$R2)) NA else num(fit$R2),
    i2 = num(fit$I2),
    h2 = num(fit$H2),
    s2w = num(fit$s2w),
    model_matrix = lapply(seq_len(nrow(fit$X)), function(i) arr(fit$X[i, ])),
    warnings = strs(warnings)
  )
}

# ---------------------------------------------------------------------------------------------------
# subgroups.json

q_between_separate <- function(group_fits) {
  est <- sapply(group_fits, function(f) c(f$beta))
  ses <- sapply(group_fits, function(f) f$se)
  qb <- rma(yi = est, sei = ses, method = "EE", control = CTL)
  list(q = num(qb$QE), df = qb$k - 1L, pvalue = num(qb$QEp), estimate = num(qb$beta),
       se = num(qb$se), group_estimates = arr(est), group_ses = arr(ses))
}

subgroup_analysis <- function(name, yi, vi, group, group_var, method, test) {
  levels <- sort(unique(as.character(group)))   # R's factor() order (alphabetical here)
  group_fits <- list()
  separate <- list()
  for (lv in levels) {
    sel <- group == lv
    f <- fit_rma(yi[sel], vi[sel], method, test)
    if (failed(f$value)) {
      separate[[lv]] <- list(error = f$value$message, k = sum(sel))
    } else {
      group_fits[[lv]] <- f$value
      separate[[lv]] <- c(list(yi = arr(yi[sel]), vi = arr(vi[sel])), fit_fields(f$value, f$warnings))
    }
  }
  dat <- data.frame(yi = yi, vi = vi, group = group)
  common <- fit_rma(yi, vi, method, test, mods = ~ factor(group), data = dat)
  cell <- fit_rma(yi, vi, method, test, mods = ~ factor(group) - 1, data = dat)
  cf <- cell$value
  list(
    dataset = name, group_var = group_var, method = method, test = test,
    yi = arr(yi), vi = arr(vi), group = strs(group), levels = strs(levels),
    separate = list(
      definition = paste("rma(method, test) per group; Q-between = QE of",
                         "rma(yi=group estimates, sei=group ses, method='EE')"),
      groups = separate,
      q_between = q_between_separate(group_fits)),
    common = c(
      list(definition = paste("rma(yi, vi, mods=~factor(group), method, test): one tau2;",
                              "Q-between = QM (F-test with df1, df2 when test='knha')")),
      mods_fields(common$value, common$warnings),
      list(group_estimates = list(
        definition = "rma(yi, vi, mods=~factor(group)-1, method, test): one coefficient per level",
        levels = strs(levels), estimate = arr(cf$beta), se = arr(cf$se), stat = arr(cf$zval),
        pvalue = arr(cf$pval), ci_low = arr(cf$ci.lb), ci_high = arr(cf$ci.ub)))
    )
  )
}

sub_cases <- list()
for (method in c("REML", "DL")) {
  for (test in TESTS) {
    sub_cases[[length(sub_cases) + 1L]] <-
      subgroup_analysis("bcg", bcg$yi, bcg$vi, bcg$alloc, "alloc", method, test)
    sub_cases[[length(sub_cases) + 1L]] <-
      subgroup_analysis("molloy2014", molloy$yi, molloy$vi, molloy$design, "design", method, test)
  }
}
write_json_file(list(meta = meta, cases = sub_cases), "subgroups.json")

# ---------------------------------------------------------------------------------------------------
# regression.json

formulas <- c("~ ablat", "~ ablat + year", "~ factor(alloc)", "~ factor(alloc) + ablat")
reg_cases <- list()
for (fml in formulas) {
  for (method in c("REML", "ML", "DL", "EE")) {
    for (test in TESTS) {
      f <- fit_rma(bcg$yi, bcg$vi, method, test, mods = as.formula(fml), data = bcg)
      reg_cases[[length(reg_cases) + 1L]] <- c(
        list(dataset = "bcg", formula = fml, method = method, test = test),
        if (failed(f$value)) list(error = f$value$message) else mods_fields(f$value, f$warnings))
    }
  }
}
write_json_file(list(
  meta = meta,
  data = list(dataset = "bcg", description = datasets$bcg$description, yi = arr(bcg$yi),
              vi = arr(bcg$vi), ablat = arr(bcg$ablat), year = arr(bcg$year),
              alloc = strs(bcg$alloc), author = strs(bcg$author)),
  cases = reg_cases
), "regression.json")

# ---------------------------------------------------------------------------------------------------
# bias.json

bias_case <- function(name, yi, vi, method, year = NULL) {
  fit <- rma(yi = yi, vi = vi, method = method, control = CTL)

  rt <- capture(regtest(fit))
  r <- rt$value
  reg <- list(model = r$model, predictor = r$predictor, stat = num(r$zval), pvalue = num(r$pval),
              df = num(r$dfs), est = num(r$est), ci_low = num(r$ci.lb), ci_high = num(r$ci.ub),
              coef_names = strs(rownames(r$fit$beta)), coef = arr(r$fit$beta), se = arr(r$fit$se),
              tau2 = num(r$fit$tau2), warnings = strs(rt$warnings))

  rk <- capture(ranktest(fit))
  rank <- list(tau = num(rk$value$tau), pvalue = num(rk$value$pval),
               exact_requested = TRUE, warnings = strs(rk$warnings))

  # trimfill() does not pass the model's control list on; give it explicitly (forwarded to rma.uni).
  tf <- capture(trimfill(fit, control = CTL))
  t <- tf$value
  trim <- c(
    list(k0 = num(t$k0), se_k0 = num(t$se.k0), side = t$side, estimator = t$k0.est,
         yi_filled = arr(t$yi), vi_filled = arr(t$vi), fill = I(as.logical(t$fill)),
         trimfill_warnings = strs(tf$warnings)),
    list(fit = fit_fields(t)))

  lo <- leave1out(fit)
  l1o <- list(estimate = arr(lo$estimate), se = arr(lo$se), zval = arr(lo$zval), pval = arr(lo$pval),
              ci_low = arr(lo$ci.lb), ci_high = arr(lo$ci.ub), Q = arr(lo$Q), Qp = arr(lo$Qp),
              tau2 = arr(lo$tau2), I2 = arr(lo$I2), H2 = arr(lo$H2))

  inf <- influence(fit)
  ii <- inf$inf
  infl <- list(rstudent = arr(ii$rstudent), dffits = arr(ii$dffits), cook_d = arr(ii$cook.d),
               cov_r = arr(ii$cov.r), tau2_del = arr(ii$tau2.del), qe_del = arr(ii$QE.del),
               hat = arr(ii$hat), weight = arr(ii$weight), dfbs = arr(inf$dfbs[[1]]),
               inf = I(unname(as.logical(inf$is.infl))))

  case <- list(dataset = name, method = method, yi = arr(yi), vi = arr(vi),
               fit = fit_fields(fit), regtest = reg, ranktest = rank, trimfill = trim,
               leave1out = l1o, influence = infl)
  if (!is.null(year)) {
    cu <- cumul(fit, order = year)
    ord <- order(year)
    case$cumul <- list(
      order_by = "year", year = arr(year),
      order = I(as.integer(ord) - 1L),   # 0-based positions of the studies, in cumulation order
      estimate = arr(cu$estimate), se = arr(cu$se), zval = arr(cu$zval), pval = arr(cu$pval),
      ci_low = arr(cu$ci.lb), ci_high = arr(cu$ci.ub), Q = arr(cu$Q), Qp = arr(cu$Qp),
      tau2 = arr(cu$tau2), I2 = arr(cu$I2), H2 = arr(cu$H2))
  }
  case
}

bias_cases <- list()
for (method in c("REML", "EE")) {
  bias_cases[[length(bias_cases) + 1L]] <- bias_case("bcg", bcg$yi, bcg$vi, method, year = bcg$year)
  bias_cases[[length(bias_cases) + 1L]] <- bias_case("hackshaw1998", hack$yi, hack$vi, method)
  bias_cases[[length(bias_cases) + 1L]] <- bias_case("normand1999", normand$yi, normand$vi, method)
}
write_json_file(list(meta = meta, cases = bias_cases), "bias.json")
