# Reference values for whatworks.effects, computed with metafor::escalc().
#
# Regenerate (from the repository root) with:
#     Rscript tests/reference/escalc.R
# which (over)writes tests/reference/escalc.json. The tests in tests/test_effects.py read that JSON
# only; they never need R.
#
# Every block holds the escalc() inputs (under "inputs"), the escalc() call as text ("call"), and
# escalc's yi and vi. Numbers are written with 17 significant digits (sprintf("%.17g")), i.e. at full
# double precision; jsonlite would round to 15 digits.
#
# Data sources:
#   * metadat::dat.normand1999   (means/SDs/ns, stroke care; SMD, MD, D2ORL)
#   * metadat::dat.bcg           (2x2 counts, BCG vaccine; OR, RR, OR2DL, no zero cells)
#   * metadat::dat.nielweise2007 (2x2 counts with single- and double-zero studies; OR, RR)
#   * metadat::dat.molloy2014    (correlations; ZCOR)
#   * Morris (2008) treatment groups, as typed on the metafor website
#     https://metafor-project.org/doku.php/analyses:morris2008 (SMCC, SMCR)
#   * literal vectors of Cohen's d / t statistics with group sizes (SMD from di / ti); these are
#     test inputs, not data about any study.

suppressPackageStartupMessages({
  library(metafor)
  library(metadat)
})

num <- function(x) {
  x <- as.numeric(x)
  out <- ifelse(is.na(x), "null",
         ifelse(is.infinite(x), ifelse(x > 0, "\"Infinity\"", "\"-Infinity\""), sprintf("%.17g", x)))
  paste0("[", paste(out, collapse = ", "), "]")
}
str1 <- function(x) paste0("\"", gsub("\"", "\\\\\"", x), "\"")
to_json <- function(x, indent = 0) {
  pad <- strrep("  ", indent + 1)
  if (is.list(x)) {
    items <- vapply(names(x), function(n) paste0(pad, str1(n), ": ", to_json(x[[n]], indent + 1)), "")
    return(paste0("{\n", paste(items, collapse = ",\n"), "\n", strrep("  ", indent), "}"))
  }
  if (is.character(x)) return(if (length(x) == 1) str1(x) else paste0("[", paste(str1(x), collapse = ", "), "]"))
  num(x)
}

block <- function(call, inputs, es) {
  list(call = call, inputs = lapply(inputs, as.numeric), yi = as.numeric(es$yi), vi = as.numeric(es$vi))
}

out <- list()

# --- standardised mean difference from means (Hedges' g, exact J, vtype = "LS") ----------------
d <- dat.normand1999
es <- escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = d)
out$SMD <- block('escalc("SMD", m1i, sd1i, n1i, m2i, sd2i, n2i)  # dat.normand1999',
                 d[c("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")], es)

es <- escalc("MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = d)
out$MD <- block('escalc("MD", m1i, sd1i, n1i, m2i, sd2i, n2i)  # dat.normand1999',
                d[c("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")], es)

es <- escalc("D2ORL", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = d)
out$D2ORL <- block('escalc("D2ORL", m1i, sd1i, n1i, m2i, sd2i, n2i)  # dat.normand1999',
                   d[c("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")], es)

# --- SMD from Cohen's d (di) and from t statistics (ti) ---------------------------------------
lit <- data.frame(di = c(0.20, -0.45, 0.80, 1.30, 0.05, -1.10),
                  ti = c(0.85, -2.10, 3.40, 5.75, 0.30, -2.65),
                  n1i = c(20, 35, 12, 60, 150, 8),
                  n2i = c(22, 30, 13, 58, 148, 9))
es <- escalc("SMD", di = di, n1i = n1i, n2i = n2i, data = lit)
out$SMD_di <- block('escalc("SMD", di, n1i, n2i)  # literal vectors', lit[c("di", "n1i", "n2i")], es)
es <- escalc("SMD", ti = ti, n1i = n1i, n2i = n2i, data = lit)
out$SMD_ti <- block('escalc("SMD", ti, n1i, n2i)  # literal vectors', lit[c("ti", "n1i", "n2i")], es)

# --- standardised mean change (pre-post), Morris (2008) treatment groups ------------------------
datT <- data.frame(m_pre   = c(30.6, 23.5, 0.5, 53.4, 35.6),
                   m_post  = c(38.5, 26.8, 0.7, 75.9, 36.0),
                   sd_pre  = c(15.0, 3.1, 0.1, 14.5, 4.7),
                   sd_post = c(11.6, 4.1, 0.1, 4.4, 4.6),
                   ni      = c(20, 50, 9, 10, 14),
                   ri      = c(0.47, 0.64, 0.77, 0.89, 0.44))
es <- escalc("SMCC", m1i = m_post, m2i = m_pre, sd1i = sd_post, sd2i = sd_pre, ni = ni, ri = ri, data = datT)
out$SMCC <- block('escalc("SMCC", m1i = m_post, m2i = m_pre, sd1i = sd_post, sd2i = sd_pre, ni, ri)  # Morris 2008',
                  datT, es)
es <- escalc("SMCR", m1i = m_post, m2i = m_pre, sd1i = sd_pre, ni = ni, ri = ri, data = datT)
out$SMCR <- block('escalc("SMCR", m1i = m_post, m2i = m_pre, sd1i = sd_pre, ni, ri)  # Morris 2008',
                  datT[c("m_pre", "m_post", "sd_pre", "ni", "ri")], es)

# --- 2x2 tables ---------------------------------------------------------------------------------
b <- dat.bcg
bcg <- data.frame(ai = b$tpos, bi = b$tneg, ci = b$cpos, di = b$cneg)
nw <- dat.nielweise2007
niel <- data.frame(ai = nw$ai, bi = nw$n1i - nw$ai, ci = nw$ci, di = nw$n2i - nw$ci)
# two extra literal rows: all participants with the event in group 1 (bi = 0), and both zero
extra <- data.frame(ai = c(12, 0), bi = c(0, 30), ci = c(9, 4), di = c(3, 26))
zero <- rbind(niel, extra)

for (m in c("OR", "RR")) {
  es <- escalc(m, ai = ai, bi = bi, ci = ci, di = di, data = bcg)
  out[[paste0(m, "_bcg")]] <- c(block(sprintf('escalc("%s", ai, bi, ci, di)  # dat.bcg', m), bcg, es),
                                list(add = 0.5, to = "only0"))
  for (to in c("only0", "all", "if0all")) {
    for (add in c(0.5, 0.25)) {
      es <- escalc(m, ai = ai, bi = bi, ci = ci, di = di, data = zero, add = add, to = to)
      key <- sprintf("%s_zero_%s_%s", m, to, format(add))
      out[[key]] <- c(block(sprintf('escalc("%s", ai, bi, ci, di, add = %s, to = "%s")  # dat.nielweise2007 + 2 rows',
                                    m, format(add), to), zero, es),
                      list(add = add, to = to))
    }
  }
}
# to = "if0all" on data without zeros must add nothing
es <- escalc("OR", ai = ai, bi = bi, ci = ci, di = di, data = bcg, to = "if0all")
out$OR_bcg_if0all <- c(block('escalc("OR", ai, bi, ci, di, to = "if0all")  # dat.bcg', bcg, es),
                       list(add = 0.5, to = "if0all"))
es <- escalc("OR2DL", ai = ai, bi = bi, ci = ci, di = di, data = bcg)
out$OR2DL <- block('escalc("OR2DL", ai, bi, ci, di)  # dat.bcg', bcg, es)

# --- Fisher z -----------------------------------------------------------------------------------
mo <- dat.molloy2014
es <- escalc("ZCOR", ri = ri, ni = ni, data = mo)
out$ZCOR <- block('escalc("ZCOR", ri, ni)  # dat.molloy2014', mo[c("ri", "ni")], es)

# --- Hedges' exact correction J(m) as metafor computes it (metafor:::.cmicalc) -------------------
m <- c(2, 3, 4, 5, 7, 10, 18, 29, 50, 100, 250, 1000, 1e4)
out$hedges_correction <- list(call = "metafor:::.cmicalc(m)", inputs = list(m = m),
                              j = metafor:::.cmicalc(m))

out$meta <- list(
  script = "tests/reference/escalc.R",
  r_version = R.version.string,
  metafor_version = as.character(packageVersion("metafor")),
  metadat_version = as.character(packageVersion("metadat")),
  date = format(Sys.Date()),
  note = "escalc defaults unless stated: vtype = 'LS', add = 1/2, to = 'only0', drop00 = FALSE"
)
out <- c(out["meta"], out[setdiff(names(out), "meta")])

args <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(file_arg)) dirname(normalizePath(file_arg)) else "tests/reference"
writeLines(to_json(out), file.path(here, "escalc.json"))
