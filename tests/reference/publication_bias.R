# metafor reference values for publication bias and sensitivity analyses (issue 12).
#
# Run from the repository root:
#     Rscript tests/reference/publication_bias.R
#
# Writes next to this script:
#   rma_tests.json   rma(test = "t" | "adhoc") and confint() I2/H2 bounds; meta-regressions with t/adhoc
#   selection.json   selmodel(type = "stepfun" | "beta" | "halfnorm"), at default and tight optimiser control
#   smallstudy.json  PET and PEESE (lm with weights 1/vi), tes(), fsn(), hc()
#   resampling.json  permutest(exact = TRUE), gosh(), baujat()
#
#     Rscript tests/reference/publication_bias.R selection   # only the named files (without .json)
#
# Every file embeds its inputs. Nothing here is random (permutation tests and GOSH are exact
# enumerations), so a rerun with the same versions changes only meta$generated. Structure and precision
# are described in README.md in this folder. Takes about five minutes (the exact enumerations).

suppressPackageStartupMessages({
  library(metafor)   # attaches metadat
  library(jsonlite)
})

CTL <- list(threshold = 1e-12, maxiter = 10000, stepadj = 0.5, tol = 1e-12)
CI_CTL <- list(tol = 1e-12, maxiter = 10000)
# selmodel(): optim(method = "BFGS") with its default reltol = 1e-8 stops about 1e-5 (relative) short of
# the maximum of the likelihood; the tight control runs it to the maximum. intCtrl tightens integrate()
# for the selection functions that need an integral (beta, halfnorm).
SEL_TIGHT <- list(reltol = 1e-13, maxit = 100000, intCtrl = list(rel.tol = 1e-11, subdivisions = 1000L))
TES_REL_TOL <- 1e-11   # tes(): integrate() tolerance for the power under tau2 > 0
HC_CTL <- list(tol = 1e-12, maxiter = 10000)   # hc(): uniroot() tolerance

ONLY <- commandArgs(trailingOnly = TRUE)
want <- function(name) length(ONLY) == 0L || name %in% ONLY
out_dir <- local({
  arg <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
  if (length(arg) == 1L) dirname(normalizePath(sub("^--file=", "", arg))) else "tests/reference"
})
meta <- list(
  generator = "tests/reference/publication_bias.R", generated = format(Sys.Date()),
  r_version = R.version.string, metafor_version = as.character(packageVersion("metafor")),
  metadat_version = as.character(packageVersion("metadat")),
  numDeriv_version = as.character(packageVersion("numDeriv")),
  jsonlite_version = as.character(packageVersion("jsonlite")),
  control = CTL, confint_control = CI_CTL, selmodel_tight_control = SEL_TIGHT,
  tes_rel_tol = TES_REL_TOL, hc_control = HC_CTL)

arr <- function(x) if (is.null(x)) NA else I(unname(as.numeric(x)))
num <- function(x) if (is.null(x) || length(x) == 0L) NA_real_ else unname(as.numeric(x)[1])
strs <- function(x) I(unname(as.character(x)))
capture <- function(expr) {
  warns <- character(0)
  value <- withCallingHandlers(
    tryCatch(expr, error = function(e) structure(list(message = conditionMessage(e)), class = "failed")),
    warning = function(w) {
      warns <<- c(warns, conditionMessage(w))
      invokeRestart("muffleWarning")
    })
  list(value = value, warnings = warns)
}
failed <- function(x) inherits(x, "failed")
write_json_file <- function(obj, name) {
  path <- file.path(out_dir, name)
  writeLines(toJSON(obj, auto_unbox = TRUE, digits = NA, na = "null", null = "null", pretty = 1), path)
  cat(sprintf("wrote %s (%.0f kB)\n", path, file.size(path) / 1024))
}

# ---------------------------------------------------------------------------------------------------
# Datasets

bcg <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
normand <- escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
                  data = dat.normand1999)
molloy <- escalc("ZCOR", ri = ri, ni = ni, data = dat.molloy2014)
hack <- dat.hackshaw1998
raud <- dat.raudenbush1985
bang <- dat.bangertdrowns2004
DATA <- list(
  bcg = list(description = "dat.bcg, escalc('RR', ai=tpos, bi=tneg, ci=cpos, di=cneg)", yi = bcg$yi, vi = bcg$vi),
  normand1999 = list(description = "dat.normand1999, escalc('SMD', m1i, sd1i, n1i, m2i, sd2i, n2i)",
                     yi = normand$yi, vi = normand$vi),
  molloy2014 = list(description = "dat.molloy2014, escalc('ZCOR', ri, ni)", yi = molloy$yi, vi = molloy$vi),
  hackshaw1998 = list(description = "dat.hackshaw1998, yi and vi as given", yi = hack$yi, vi = hack$vi),
  raudenbush1985 = list(description = "dat.raudenbush1985, yi and vi as given", yi = raud$yi, vi = raud$vi),
  bangertdrowns2004 = list(description = "dat.bangertdrowns2004, yi and vi as given", yi = bang$yi, vi = bang$vi),
  hackshaw1998_first10 = list(description = "dat.hackshaw1998 rows 1-10", yi = hack$yi[1:10], vi = hack$vi[1:10]),
  hackshaw1998_first5 = list(description = "dat.hackshaw1998 rows 1-5 (REML tau2 = 0)",
                             yi = hack$yi[1:5], vi = hack$vi[1:5])
)
data_out <- lapply(DATA, function(d) list(description = d$description, yi = arr(d$yi), vi = arr(d$vi)))
fit_of <- function(name, method = "REML", test = "z") {
  d <- DATA[[name]]
  rma(yi = d$yi, vi = d$vi, method = method, test = test, control = CTL)
}

# ---------------------------------------------------------------------------------------------------
# rma_tests.json

fit_fields <- function(fit) {
  is_ee <- fit$method == "EE"
  rnd <- if (is_ee) NULL else confint(fit, control = CI_CTL)$random
  pr <- predict(fit)
  list(k = fit$k, test_used = fit$test, estimate = num(fit$beta), se = num(fit$se), stat = num(fit$zval),
       pvalue = num(fit$pval), ci_low = num(fit$ci.lb), ci_high = num(fit$ci.ub),
       df = if (fit$test == "z") NA else num(fit$dfs), s2w = num(fit$s2w),
       tau2 = num(fit$tau2), i2 = num(fit$I2), h2 = num(fit$H2), q = num(fit$QE), q_pvalue = num(fit$QEp),
       tau2_ci_low = if (is_ee) NA else num(rnd["tau^2", "ci.lb"]),
       tau2_ci_high = if (is_ee) NA else num(rnd["tau^2", "ci.ub"]),
       i2_ci_low = if (is_ee) NA else num(rnd["I^2(%)", "ci.lb"]),
       i2_ci_high = if (is_ee) NA else num(rnd["I^2(%)", "ci.ub"]),
       h2_ci_low = if (is_ee) NA else num(rnd["H^2", "ci.lb"]),
       h2_ci_high = if (is_ee) NA else num(rnd["H^2", "ci.ub"]),
       pi_low = if (is_ee) num(pr$ci.lb) else num(pr$pi.lb), pi_high = if (is_ee) num(pr$ci.ub) else num(pr$pi.ub))
}
if (want("rma_tests")) {
  rma_cases <- list()
  for (name in c("bcg", "normand1999", "molloy2014", "hackshaw1998", "raudenbush1985", "bangertdrowns2004",
                 "hackshaw1998_first5")) {
    for (method in c("REML", "DL", "PM", "EE")) {
      for (test in c("t", "adhoc")) {
        f <- capture(fit_of(name, method, test))
        rma_cases[[length(rma_cases) + 1L]] <- list(dataset = name, method = method, test = test, level = 0.95,
                                                    fit = fit_fields(f$value), warnings = strs(f$warnings))
      }
    }
  }
  reg_cases <- list()
  for (fml in c("~ ablat", "~ factor(alloc) + ablat")) {
    for (method in c("REML", "DL")) {
      for (test in c("t", "adhoc")) {
        fit <- rma(yi, vi, mods = as.formula(fml), data = bcg, method = method, test = test, control = CTL)
        reg_cases[[length(reg_cases) + 1L]] <- list(
          formula = fml, method = method, test = test, coef = arr(fit$beta), se = arr(fit$se), stat = arr(fit$zval),
          pvalue = arr(fit$pval), ci_low = arr(fit$ci.lb), ci_high = arr(fit$ci.ub), df = num(fit$dfs),
          qm = num(fit$QM), qm_df = num(fit$QMdf[1]), qm_df2 = num(fit$QMdf[2]), qm_pvalue = num(fit$QMp),
          s2w = num(fit$s2w), tau2 = num(fit$tau2))
      }
    }
  }
  write_json_file(list(meta = meta, datasets = data_out, cases = rma_cases,
                       regression = list(data = list(yi = arr(bcg$yi), vi = arr(bcg$vi), ablat = arr(bcg$ablat),
                                                     alloc = strs(bcg$alloc)),
                                         cases = reg_cases)), "rma_tests.json")
}

# ---------------------------------------------------------------------------------------------------
# selection.json

sel_fields <- function(s) {
  list(estimate = num(s$beta), se = num(s$se), stat = num(s$zval), pvalue = num(s$pval), ci_low = num(s$ci.lb),
       ci_high = num(s$ci.ub), tau2 = num(s$tau2), se_tau2 = num(s$se.tau2), tau2_ci_low = num(s$ci.lb.tau2),
       tau2_ci_high = num(s$ci.ub.tau2), delta = arr(s$delta), se_delta = arr(s$se.delta),
       delta_ci_low = arr(s$ci.lb.delta), delta_ci_high = arr(s$ci.ub.delta),
       delta_pvalue = arr(s$pval.delta), loglik = num(s$ll), loglik0 = num(s$ll0), lrt = num(s$LRT),
       lrt_df = num(s$LRTdf), lrt_pvalue = num(s$LRTp),
       k_per_interval = if (is.data.frame(s$ptable)) I(as.integer(s$ptable$k)) else NA,
       steps = arr(s$steps))
}
sel_case <- function(name, method, type, alternative = "greater", steps = NULL, delta = NULL) {
  fit <- fit_of(name, method)
  args <- list(x = fit, type = type, alternative = alternative)
  if (!is.null(steps)) args$steps <- steps
  if (!is.null(delta)) args$delta <- delta
  default <- capture(do.call(selmodel, args))
  tight <- capture(do.call(selmodel, c(args, list(control = SEL_TIGHT))))
  out <- list(dataset = name, method = method, type = type, alternative = alternative,
              steps = if (is.null(steps)) NA else arr(steps), delta_fixed = if (is.null(delta)) NA else arr(delta))
  for (which in c("default", "tight")) {
    r <- if (which == "default") default else tight
    out[[which]] <- if (failed(r$value)) list(error = r$value$message, warnings = strs(r$warnings))
                    else c(sel_fields(r$value), list(warnings = strs(r$warnings)))
  }
  out
}
if (want("selection")) {
  sel_cases <- list()
  add_sel <- function(...) sel_cases[[length(sel_cases) + 1L]] <<- sel_case(...)
  for (name in c("hackshaw1998", "molloy2014", "bangertdrowns2004", "raudenbush1985", "normand1999")) {
    add_sel(name, "REML", "stepfun", "greater", steps = 0.025)
  }
  add_sel("bcg", "REML", "stepfun", "less", steps = 0.025)
  add_sel("bcg", "REML", "stepfun", "greater", steps = 0.025)        # first interval empty: delta at its bound
  add_sel("hackshaw1998", "REML", "stepfun", "two.sided", steps = 0.05)
  add_sel("hackshaw1998", "REML", "stepfun", "greater", steps = c(0.05, 0.10, 0.50, 1))
  add_sel("bangertdrowns2004", "REML", "stepfun", "greater", steps = c(0.025, 0.5))
  add_sel("hackshaw1998", "EE", "stepfun", "greater", steps = 0.025)
  add_sel("molloy2014", "REML", "stepfun", "less", steps = 0.025)     # first interval empty: delta at its bound
  add_sel("hackshaw1998", "REML", "stepfun", "greater", steps = c(0.025, 0.5), delta = c(1, 0.5, 0.25))
  add_sel("bcg", "REML", "beta")
  add_sel("hackshaw1998", "REML", "stepfun", "greater", steps = c(0.025, 0.026))  # empty 2nd interval: an error
  add_sel("molloy2014", "REML", "beta")
  add_sel("hackshaw1998", "REML", "halfnorm")
  add_sel("bangertdrowns2004", "REML", "halfnorm")
  write_json_file(list(meta = meta, datasets = data_out, cases = sel_cases), "selection.json")
}

# ---------------------------------------------------------------------------------------------------
# smallstudy.json

lm_fields <- function(m) {
  s <- summary(m)$coefficients
  ci <- confint(m, level = 0.95)
  list(coef = arr(s[, 1]), se = arr(s[, 2]), stat = arr(s[, 3]), pvalue = arr(s[, 4]), ci_low = arr(ci[, 1]),
       ci_high = arr(ci[, 2]), df = num(m$df.residual), sigma = num(summary(m)$sigma))
}
if (want("smallstudy")) {
  ss_cases <- list()
  for (name in c("bcg", "normand1999", "molloy2014", "hackshaw1998", "raudenbush1985", "bangertdrowns2004")) {
    d <- DATA[[name]]
    yi <- d$yi
    vi <- d$vi
    pet <- lm(yi ~ sqrt(vi), weights = 1 / vi)
    peese <- lm(yi ~ vi, weights = 1 / vi)
    tes_of <- function(method) {
      r <- capture(tes(fit_of(name, method), rel.tol = TES_REL_TOL, progbar = FALSE))
      t <- r$value
      list(method = method, observed = num(t$O), expected = num(t$E), ratio = num(t$OEratio), test = t$test,
           stat = num(t$X2), pvalue = num(t$pval), power = arr(t$power), significant = I(as.logical(t$sig)),
           theta = num(t$theta), warnings = strs(r$warnings))
    }
    tes_chi2 <- tes(fit_of(name, "REML"), rel.tol = TES_REL_TOL, test = "chi2", progbar = FALSE)
    fsn_of <- function(type, ...) {
      f <- fsn(yi, vi, type = type, ...)
      list(type = type, fsnum = num(f$fsnum), alpha = num(f$alpha), pvalue = num(f$pval), meanes = num(f$meanes),
           target = num(f$target))
    }
    h <- hc(fit_of(name, "REML"), control = HC_CTL)
    ss_cases[[length(ss_cases) + 1L]] <- list(
      dataset = name, yi = arr(yi), vi = arr(vi),
      pet = lm_fields(pet), peese = lm_fields(peese),
      tes = list(tes_of("REML"), tes_of("EE")),
      tes_chi2 = list(method = "REML", test = tes_chi2$test, stat = num(tes_chi2$X2), pvalue = num(tes_chi2$pval),
                      observed = num(tes_chi2$O), expected = num(tes_chi2$E)),
      fsn = list(fsn_of("Rosenthal"), fsn_of("Rosenthal", alpha = 0.01), fsn_of("Orwin"),
                 fsn_of("Orwin", target = 0.05 * sign(mean(yi))), fsn_of("Rosenberg")),
      hc = list(method_rma = "REML", estimate = num(h$beta), se = num(h$se), ci_low = num(h$ci.lb),
                ci_high = num(h$ci.ub), tau2 = num(h$tau2), estimate_rma = num(h$beta.rma)))
  }
  write_json_file(list(meta = meta, cases = ss_cases), "smallstudy.json")
}

# ---------------------------------------------------------------------------------------------------
# resampling.json

perm_fields <- function(p) {
  list(pvalue = arr(p$pval), qm_pvalue = num(p$QMp), exact = TRUE, n_iter = num(p$exact.iter),
       stat = arr(p$zval), qm = num(p$QM))
}
if (want("resampling")) {
  perm_cases <- list()
  for (spec in list(c("normand1999", "REML", "z"), c("normand1999", "REML", "knha"), c("bcg", "DL", "z"),
                    c("hackshaw1998_first10", "EE", "z"), c("molloy2014", "DL", "knha"))) {
    fit <- fit_of(spec[1], spec[2], spec[3])
    p <- permutest(fit, exact = TRUE, progbar = FALSE, control = list())
    perm_cases[[length(perm_cases) + 1L]] <- c(list(dataset = spec[1], method = spec[2], test = spec[3], mods = NA),
                                               perm_fields(p))
  }
  # moderators: permutations of the rows of the model matrix; 13!/(7! 6!) = 1716 distinct ones for a dummy,
  # 7! = 5040 for a continuous moderator on 7 studies
  bcg$random <- as.numeric(bcg$alloc == "random")
  bcg7 <- bcg[1:7, ]
  for (spec in list(list(bcg, "~ random", "REML", "z"), list(bcg, "~ random", "REML", "knha"),
                    list(bcg7, "~ ablat", "DL", "z"))) {
    d <- spec[[1]]
    fit <- rma(yi, vi, mods = as.formula(spec[[2]]), data = d, method = spec[[3]], test = spec[[4]], control = CTL)
    p <- permutest(fit, exact = TRUE, progbar = FALSE)
    perm_cases[[length(perm_cases) + 1L]] <- c(
      list(dataset = if (nrow(d) == 7) "bcg_first7" else "bcg", method = spec[[3]], test = spec[[4]],
           mods = spec[[2]], yi = arr(d$yi), vi = arr(d$vi), X = lapply(seq_len(nrow(fit$X)), function(i) arr(fit$X[i, ]))),
      perm_fields(p))
  }

  gosh_cases <- list()
  for (spec in list(c("normand1999", "REML"), c("normand1999", "DL"), c("normand1999", "EE"),
                    c("hackshaw1998_first10", "REML"), c("hackshaw1998_first10", "PM"))) {
    g <- gosh(fit_of(spec[1], spec[2]), progbar = FALSE)
    r <- g$res
    # rows in gosh()'s order: expand.grid() subsets (study 1 varies fastest), stably sorted by k
    gosh_cases[[length(gosh_cases) + 1L]] <- list(
      dataset = spec[1], method = spec[2], n = nrow(r), k = I(as.integer(r$k)), q = arr(r$QE), i2 = arr(r$I2),
      h2 = arr(r$H2), tau2 = arr(r$tau2), estimate = arr(r$estimate),
      incl_first = lapply(1:5, function(i) I(as.logical(g$incl[i, ]))))
  }

  pdf(NULL)   # baujat() draws; keep its plots off disk
  baujat_cases <- list()
  for (spec in list(c("bcg", "REML", "z"), c("hackshaw1998", "REML", "z"), c("normand1999", "EE", "z"),
                    c("molloy2014", "DL", "knha"))) {
    b <- baujat(fit_of(spec[1], spec[2], spec[3]))
    baujat_cases[[length(baujat_cases) + 1L]] <- list(dataset = spec[1], method = spec[2], test = spec[3], mods = NA,
                                                      x = arr(b$x), y = arr(b$y))
  }
  fitm <- rma(yi, vi, mods = ~ ablat, data = bcg, method = "REML", control = CTL)
  b <- baujat(fitm)
  baujat_cases[[length(baujat_cases) + 1L]] <- list(dataset = "bcg", method = "REML", test = "z", mods = "~ ablat",
                                                    ablat = arr(bcg$ablat), x = arr(b$x), y = arr(b$y))
  dev.off()

  write_json_file(list(meta = meta, datasets = data_out, permutest = perm_cases, gosh = gosh_cases,
                       baujat = baujat_cases), "resampling.json")
}
