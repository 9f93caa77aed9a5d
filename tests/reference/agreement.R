# Reference values for whatworks.data.agree: Cohen's kappa of two codings, computed with psych::cohen.kappa,
# and how far the disagreements move the effect, computed with metafor::escalc.
#
# Regenerate (from the repository root) with:
#     Rscript tests/reference/agreement.R
# which (over)writes tests/reference/agreement.json. tests/test_data_agree.py reads that JSON only.
#
# Input: the SYNTHETIC worked example tests/fixtures/double_coding/coder_{a,b}/demo2027 (made-up trials).
# The rules are those documented in docs/adding-a-review.md, reimplemented here independently:
#   * rows are matched by effect_id (effects.csv) and by study_id + effect_id (risk_of_bias.csv);
#   * a cell both coders left empty is not a rating (the row is left out for that column);
#   * in a true/false column an empty cell is "false"; in any other column an empty cell is the
#     category "(empty)";
#   * numeric columns agree when their numbers are equal ("12.50" equals "12.5").

suppressPackageStartupMessages({
  library(psych)
  library(metafor)
  library(jsonlite)
})

fixture <- file.path("tests", "fixtures", "double_coding")
read <- function(coder, file) {
  read.csv(file.path(fixture, coder, "demo2027", file), colClasses = "character", na.strings = character(0),
           strip.white = TRUE, check.names = FALSE)
}

booleans <- c("borderline", "exclude")
categorical <- list(
  "effects.csv" = c("design", "age_band", "strategy", "borderline", "delivery_format", "control", "stat_type",
                    "sign_convention", "favours", "hand", "exclude"),
  "risk_of_bias.csv" = c("tool", "d1", "d2", "d3", "d4", "d5", "overall")
)
numeric_cols <- c("n_treatment", "m_t", "sd_t")

key_of <- function(d, file) if (file == "effects.csv") d$effect_id else paste0(d$study_id, "/", d$effect_id)

num <- function(x) if (is.null(x) || is.na(x)) "null" else sprintf("%.17g", x)

out <- list()
for (file in names(categorical)) {
  a <- read("coder_a", file)
  b <- read("coder_b", file)
  a$key <- key_of(a, file)
  b$key <- key_of(b, file)
  m <- merge(a, b, by = "key", suffixes = c(".a", ".b"))
  for (col in categorical[[file]]) {
    va <- m[[paste0(col, ".a")]]
    vb <- m[[paste0(col, ".b")]]
    if (col %in% booleans) {
      va <- ifelse(va == "", "false", tolower(va))
      vb <- ifelse(vb == "", "false", tolower(vb))
    } else {
      va <- ifelse(va == "", "(empty)", va)
      vb <- ifelse(vb == "", "(empty)", vb)
    }
    keep <- !(va == "(empty)" & vb == "(empty)")
    va <- va[keep]
    vb <- vb[keep]
    levels <- sort(unique(c(va, vb)))
    res <- suppressWarnings(suppressMessages(cohen.kappa(cbind(va, vb), levels = levels)))
    kappa <- if (length(levels) < 2) NA else res$kappa
    var_kappa <- if (length(levels) < 2) NA else res$var.kappa
    out[[length(out) + 1]] <- sprintf(
      '{"file": "%s", "column": "%s", "n": %d, "n_disagree": %d, "kappa": %s, "var_kappa": %s}',
      file, col, length(va), sum(va != vb), num(kappa), num(var_kappa))
  }
}

# numeric columns of effects.csv, and |yi_a - yi_b| over their disagreeing rows (escalc SMD = Hedges' g on post
# means: the rows concerned are all stat_type means_post)
a <- read("coder_a", "effects.csv")
b <- read("coder_b", "effects.csv")
m <- merge(a, b, by = "effect_id", suffixes = c(".a", ".b"))
smd <- function(d, s) {
  g <- function(x) as.numeric(d[[paste0(x, s)]])
  escalc("SMD", m1i = g("m_t"), sd1i = g("sd_t"), n1i = g("n_treatment"), m2i = g("m_c"), sd2i = g("sd_c"),
         n2i = g("n_control"))$yi
}
for (col in numeric_cols) {
  xa <- suppressWarnings(as.numeric(m[[paste0(col, ".a")]]))
  xb <- suppressWarnings(as.numeric(m[[paste0(col, ".b")]]))
  filled <- !(is.na(xa) & is.na(xb))
  differ <- filled & (is.na(xa) | is.na(xb) | xa != xb)
  rows <- m[which(differ), ]
  dyi <- if (nrow(rows)) max(abs(smd(rows, ".a") - smd(rows, ".b"))) else NA
  out[[length(out) + 1]] <- sprintf(
    '{"file": "effects.csv", "column": "%s", "n": %d, "n_disagree": %d, "max_abs_dyi": %s}',
    col, sum(filled), sum(differ), num(dyi))
}

meta <- sprintf(paste0('{"generator": "tests/reference/agreement.R", "generated": "%s", "r_version": "%s", ',
                       '"psych_version": "%s", "metafor_version": "%s", "jsonlite_version": "%s"}'),
                format(Sys.Date()), R.version.string, packageVersion("psych"), packageVersion("metafor"),
                packageVersion("jsonlite"))
writeLines(c("{", paste0('"meta": ', meta, ","), '"columns": [', paste(unlist(out), collapse = ",\n"), "]", "}"),
           file.path("tests", "reference", "agreement.json"))
