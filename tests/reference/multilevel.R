# Reference values for the three-level model and cluster-robust inference (whatworks issue 6).
#
# Run from the repository root:
#     Rscript tests/reference/multilevel.R
#
# Writes multilevel.json (metafor rma.mv, random = ~ 1 | cluster/es_id) and robust.json (metafor
# robust() CR1 and clubSandwich CR2 with Satterthwaite df) next to this script. Every case embeds its
# inputs (yi, vi, cluster, es_id, model matrix), so the Python tests need neither R nor metadat.
# Nothing here is random: a rerun with the same versions changes only meta$generated.
#
# Datasets (metadat):
#   konstantopoulos2011  dat.konstantopoulos2011  56 effects in 11 districts (cluster = district,
#                        es_id = study); moderator: year_c = year - 1990 (continuous; centred
#                        because nlminb does not converge tightly with the raw year)
#   assink2016           dat.assink2016           100 effects in 17 studies (cluster = study,
#                        es_id = esid); moderator: deltype (3 levels, treatment coding with reference "general"; "covert" occurs in study 16 only)

suppressPackageStartupMessages({
  library(metafor)       # attaches metadat
  library(clubSandwich)
  library(jsonlite)
})

# rma.mv optimises with nlminb by default; tighten it. nlminb sometimes stops with "false convergence"
# (code 1) at rel.tol = 1e-12; such a fit is retried with the next, looser setting, and every case
# records the control it used (`control_used`). The Python fit (gradient norm ~1e-10) agrees with
# both settings far inside the test tolerance.
MV_CTLS <- list(list(rel.tol = 1e-12, eval.max = 10000, iter.max = 10000),
                list(rel.tol = 1e-10, eval.max = 10000, iter.max = 10000))
# rma.uni: Fisher scoring for REML.
UNI_CTL <- list(threshold = 1e-12, maxiter = 10000, stepadj = 0.5)

out_dir <- local({
  arg <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
  if (length(arg) == 1L) dirname(normalizePath(sub("^--file=", "", arg))) else "tests/reference"
})

meta <- list(
  generator = "tests/reference/multilevel.R",
  generated = format(Sys.Date()),
  r_version = R.version.string,
  metafor_version = as.character(packageVersion("metafor")),
  metadat_version = as.character(packageVersion("metadat")),
  clubSandwich_version = as.character(packageVersion("clubSandwich")),
  jsonlite_version = as.character(packageVersion("jsonlite")),
  rma_mv_controls = MV_CTLS,
  rma_uni_control = UNI_CTL
)

arr <- function(x) I(unname(as.numeric(x)))
mat <- function(m) unname(lapply(seq_len(nrow(m)), function(i) as.numeric(m[i, ])))

# ---------------------------------------------------------------------------------------------------
# Data

kon <- dat.konstantopoulos2011
kon$year_c <- kon$year - 1990
ass <- dat.assink2016
ass$deltype <- relevel(factor(ass$deltype), ref = "general")  # general, covert, overt

datasets <- list(
  konstantopoulos2011 = list(data = kon, cluster = "district", es_id = "study", mods = ~ year_c,
                             description = "dat.konstantopoulos2011; cluster = district, es_id = study"),
  assink2016 = list(data = ass, cluster = "study", es_id = "esid", mods = ~ deltype,
                    description = "dat.assink2016; cluster = study, es_id = esid")
)

inputs <- function(ds) {
  d <- ds$data
  list(description = ds$description, yi = arr(d$yi), vi = arr(d$vi),
       cluster = arr(d[[ds$cluster]]), es_id = arr(d[[ds$es_id]]),
       moderator = if (is.factor(d[[all.vars(ds$mods)]])) I(as.character(d[[all.vars(ds$mods)]]))
                   else arr(d[[all.vars(ds$mods)]]))
}

# ---------------------------------------------------------------------------------------------------
# Three-level model

# rma.mv with the first control setting that converges; returns the fit with $control_used.
rma_mv <- function(d, mods, method, test = "z") {
  for (ctl in MV_CTLS) {
    fit <- tryCatch(rma.mv(yi, vi, mods = mods, random = ~ 1 | cl/es, data = d, method = method,
                           test = test, control = ctl),
                    error = function(e) NULL)
    if (!is.null(fit)) {
      fit$control_used <- ctl
      return(fit)
    }
  }
  stop("rma.mv did not converge with any control setting")
}

# Multilevel I² (metafor FAQ "I² for multilevel models"; Cheung 2014): sigma2_l / (sum(sigma2) + vt),
# with vt = (k - p) / tr(P), P = W - W X (X'WX)^-1 X'W and W = diag(1/vi).
ml_i2 <- function(fit) {
  W <- diag(1 / fit$vi)
  X <- model.matrix(fit)
  P <- W - W %*% X %*% solve(t(X) %*% W %*% X) %*% t(X) %*% W
  vt <- (fit$k - fit$p) / sum(diag(P))
  list(vt = vt, i2_levels = arr(100 * fit$sigma2 / (sum(fit$sigma2) + vt)),
       i2 = 100 * sum(fit$sigma2) / (sum(fit$sigma2) + vt))
}

fit_mv <- function(key, method, test, with_mods) {
  ds <- datasets[[key]]
  d <- ds$data
  d$cl <- d[[ds$cluster]]
  d$es <- d[[ds$es_id]]
  mods <- if (with_mods) ds$mods else ~ 1
  fit <- rma_mv(d, mods, method, test)
  het <- ml_i2(fit)
  out <- list(
    dataset = key, method = method, test = test, mods = if (with_mods) deparse(ds$mods) else NA,
    k = fit$k, p = fit$p, n_clusters = unname(fit$s.nlevels[1]), n_es = unname(fit$s.nlevels[2]),
    coef_names = I(rownames(fit$beta)), model_matrix = mat(model.matrix(fit)),
    coef = arr(fit$beta), se = arr(fit$se), stat = arr(fit$zval), pvalue = arr(fit$pval),
    ci_low = arr(fit$ci.lb), ci_high = arr(fit$ci.ub), vcov = mat(vcov(fit)),
    df = if (test == "t") unname(fit$ddf[1]) else NA,
    sigma2 = arr(fit$sigma2), vt = het$vt, i2_levels = het$i2_levels, i2 = het$i2,
    q = fit$QE, q_df = fit$k - fit$p, q_pvalue = fit$QEp,
    qm = fit$QM, qm_pvalue = fit$QMp,
    loglik = as.numeric(logLik(fit)), control_used = fit$control_used
  )
  if (!with_mods) {
    pr <- predict(fit)
    out$pi_low <- pr$pi.lb
    out$pi_high <- pr$pi.ub
  }
  out
}

mv_cases <- list()
for (key in names(datasets)) for (method in c("REML", "ML")) for (test in c("z", "t"))
  for (with_mods in c(FALSE, TRUE))
    mv_cases[[length(mv_cases) + 1L]] <- fit_mv(key, method, test, with_mods)

write_json(list(meta = meta, datasets = lapply(datasets, inputs), cases = mv_cases),
           file.path(out_dir, "multilevel.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE,
           na = "null")

# ---------------------------------------------------------------------------------------------------
# Cluster-robust inference

robust_fields <- function(r) {
  list(coef = arr(r$beta), se = arr(r$se), stat = arr(r$zval), df = arr(r$dfs), pvalue = arr(r$pval),
       ci_low = arr(r$ci.lb), ci_high = arr(r$ci.ub), vcov = mat(r$vb))
}

robust_case <- function(key, model, with_mods, test = "z") {
  ds <- datasets[[key]]
  d <- ds$data
  d$cl <- d[[ds$cluster]]
  d$es <- d[[ds$es_id]]
  mods <- if (with_mods) ds$mods else ~ 1
  fit <- if (model == "rma.uni") {
    rma(yi, vi, mods = mods, data = d, method = "REML", test = test, control = UNI_CTL)
  } else {
    rma_mv(d, mods, "REML")
  }
  cr1 <- robust(fit, cluster = d$cl)
  cr2 <- robust(fit, cluster = d$cl, clubSandwich = TRUE)
  ct <- coef_test(fit, vcov = "CR2", cluster = d$cl, test = "Satterthwaite")
  list(
    dataset = key, model = model, method = "REML", test = test,
    mods = if (with_mods) deparse(ds$mods) else NA,
    coef_names = I(rownames(fit$beta)), model_matrix = mat(model.matrix(fit)),
    tau2 = if (model == "rma.uni") fit$tau2 else NA,
    sigma2 = if (model == "rma.mv") arr(fit$sigma2) else NA,
    n_clusters = length(unique(d$cl)),
    CR1 = robust_fields(cr1),
    CR2 = robust_fields(cr2),
    coef_test_CR2 = list(se = arr(ct$SE), stat = arr(ct$tstat), df = arr(ct$df_Satt),
                         pvalue = arr(ct$p_Satt))
  )
}

rb_cases <- list()
for (key in names(datasets)) for (model in c("rma.uni", "rma.mv")) for (with_mods in c(FALSE, TRUE))
  rb_cases[[length(rb_cases) + 1L]] <- robust_case(key, model, with_mods)
# metafor 3.8 robust() on a test = "knha" rma.uni fit builds its bread from x$vb, which already holds
# the Knapp-Hartung factor s2w; whatworks does not (the robust variance replaces the model-based one).
# Kept here to document that difference; clubSandwich's CR2 ignores the test.
rb_cases[[length(rb_cases) + 1L]] <- robust_case("konstantopoulos2011", "rma.uni", FALSE, test = "knha")

write_json(list(meta = meta, datasets = lapply(datasets, inputs), cases = rb_cases),
           file.path(out_dir, "robust.json"), digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null")
