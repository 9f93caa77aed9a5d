# Reference values for whatworks.effects.smd_ppc2 (Morris 2008 d_ppc2) and the cluster design effect.
# Run from the repository root:  Rscript tests/reference/prepost.R
# Writes tests/reference/prepost.json (used by tests/test_effects_prepost.py and tests/test_data_design.py).
#
# Independent of the Python code: the formulas are written out here from the papers, in Morris's own
# (unsimplified) form of eq. 25, and the cluster cases go through metafor's escalc().
#   d_ppc2 = c(nT + nC - 2) * ((Mpost,T - Mpre,T) - (Mpost,C - Mpre,C)) / SDpre,pooled      (Morris 2008, eq. 8)
#   var    = 2 c^2 (1 - rho) (nT + nC)/(nT nC) (nT + nC - 2)/(nT + nC - 4)
#            * (1 + delta^2 / (2 (1 - rho) (nT + nC)/(nT nC))) - delta^2                    (Morris 2008, eq. 25)
#   with delta and rho replaced by their estimates d_ppc2 and r, and c() metafor's exact correction.
#   "LS" variance: 2 (1 - r) (1/nT + 1/nC) + d^2 / (2 (nT + nC)), as on
#   https://www.metafor-project.org/doku.php/analyses:morris2008 .
# Design effect (Cochrane Handbook v6, 23.1.4): DE = 1 + (m - 1) ICC, m = N / clusters; effective arm
# sizes n / DE enter escalc() with the reported means and SDs.
suppressMessages(library(metafor))
cfun <- metafor:::.cmicalc

ppc2 <- function(mpost_t, mpre_t, sdpre_t, nt, mpost_c, mpre_c, sdpre_c, nc, r) {
  sdp <- sqrt(((nt - 1) * sdpre_t^2 + (nc - 1) * sdpre_c^2) / (nt + nc - 2))
  cp <- cfun(nt + nc - 2)
  d <- cp * ((mpost_t - mpre_t) - (mpost_c - mpre_c)) / sdp
  a <- (nt + nc) / (nt * nc)
  v_mo <- 2 * cp^2 * (1 - r) * a * (nt + nc - 2) / (nt + nc - 4) * (1 + d^2 / (2 * (1 - r) * a)) - d^2
  v_ls <- 2 * (1 - r) * (1 / nt + 1 / nc) + d^2 / (2 * (nt + nc))
  list(yi = d, vi_mo = v_mo, vi_ls = v_ls)
}

# Morris (2008), Table 5 data (Carlson & Schmidt 1999), as on the metafor page above
morris <- list(
  m_pre_t = c(30.6, 23.5, 0.5, 53.4, 35.6), m_post_t = c(38.5, 26.8, 0.7, 75.9, 36.0),
  sd_pre_t = c(15.0, 3.1, 0.1, 14.5, 4.7), n_t = c(20, 50, 9, 10, 14),
  m_pre_c = c(23.1, 24.9, 0.6, 55.7, 34.8), m_post_c = c(19.7, 25.3, 0.6, 60.7, 33.4),
  sd_pre_c = c(13.8, 4.1, 0.2, 17.3, 3.1), n_c = c(20, 42, 9, 11, 14),
  r = c(0.47, 0.64, 0.77, 0.89, 0.44))
morris_out <- with(morris, ppc2(m_post_t, m_pre_t, sd_pre_t, n_t, m_post_c, m_pre_c, sd_pre_c, n_c, r))

# Further cases: negative and zero correlations, unequal arms, a decrease in the treatment arm
extra <- list(
  m_pre_t = c(45.0, 6.51, 12.0, 50.0), m_post_t = c(40.2, 6.50, 12.5, 47.0),
  sd_pre_t = c(9.5, 3.62, 2.0, 10.0), n_t = c(33, 63, 4, 120),
  m_pre_c = c(44.1, 8.38, 11.0, 49.0), m_post_c = c(44.0, 8.19, 11.2, 49.5),
  sd_pre_c = c(10.2, 2.49, 2.5, 11.0), n_c = c(31, 56, 3, 118),
  r = c(0.5, 0.5, -0.3, 0.0))
extra_out <- with(extra, ppc2(m_post_t, m_pre_t, sd_pre_t, n_t, m_post_c, m_pre_c, sd_pre_c, n_c, r))

# Cluster trial: 12 clusters, 120 + 110 participants, ICC 0.05 -> DE = 1 + (230/12 - 1) * 0.05
k <- 12; nt <- 120; nc <- 110; icc <- 0.05
de <- 1 + ((nt + nc) / k - 1) * icc
post <- escalc("SMD", m1i = 30.1, sd1i = 6.2, n1i = nt / de, m2i = 33.0, sd2i = 6.8, n2i = nc / de)
post_raw <- escalc("SMD", m1i = 30.1, sd1i = 6.2, n1i = nt, m2i = 33.0, sd2i = 6.8, n2i = nc)
pp <- ppc2(30.1, 31.0, 6.0, nt / de, 33.0, 32.5, 6.5, nc / de, 0.5)
dd <- escalc("SMD", di = -0.40, n1i = nt / de, n2i = nc / de)
# t = -2.5 with the actual arm sizes gives d = t sqrt(1/nt + 1/nc); then effective sizes
tt <- escalc("SMD", di = -2.5 * sqrt(1 / nt + 1 / nc), n1i = nt / de, n2i = nc / de)

out <- list(
  morris2008 = c(morris, list(yi = morris_out$yi, vi_mo = morris_out$vi_mo, vi_ls = morris_out$vi_ls)),
  extra = c(extra, list(yi = extra_out$yi, vi_mo = extra_out$vi_mo, vi_ls = extra_out$vi_ls)),
  cluster = list(n_clusters = k, n_t = nt, n_c = nc, icc = icc, design_effect = de,
                 means_post = list(m_t = 30.1, sd_t = 6.2, m_c = 33.0, sd_c = 6.8,
                                   yi = as.numeric(post$yi), vi = as.numeric(post$vi),
                                   vi_uncorrected = as.numeric(post_raw$vi)),
                 means_prepost = list(m_t = 30.1, m_pre_t = 31.0, sd_pre_t = 6.0, m_c = 33.0, m_pre_c = 32.5,
                                      sd_pre_c = 6.5, r = 0.5, yi = pp$yi, vi = pp$vi_mo),
                 d = list(es = -0.40, yi = as.numeric(dd$yi), vi = as.numeric(dd$vi)),
                 t = list(test_stat = -2.5, yi = as.numeric(tt$yi), vi = as.numeric(tt$vi))),
  meta = list(generator = "tests/reference/prepost.R", generated = as.character(Sys.Date()),
              r_version = R.version.string, metafor_version = as.character(packageVersion("metafor")),
              jsonlite_version = as.character(packageVersion("jsonlite"))))
jsonlite::write_json(out, "tests/reference/prepost.json", auto_unbox = TRUE, digits = NA, pretty = TRUE)
