/* placeholder: being written */
#include <stdlib.h>
#include <string.h>
#include "html.h"
int rg_html_render(const char *html, size_t len, size_t max_text, struct rg_part *part, char **error_r)
{ (void)max_text; (void)error_r; part->text = strndup(html, len); part->text_len = strlen(part->text); return 0; }
