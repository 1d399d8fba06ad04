<?xml version="1.0" encoding="UTF-8"?>
<!-- The page every stylesheet of the example shares: imported by feed.xsl and
     catalogue.xsl, which fill in the "title" and "content" modes. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output method="html" encoding="UTF-8" doctype-system="about:legacy-compat"/>

  <!-- The site name: a stylesheet parameter (xsltproc: stringparam site "Onion News") -->
  <xsl:param name="site" select="'Onion'"/>

  <xsl:template match="/">
    <html lang="en">
      <head>
        <title><xsl:apply-templates select="/" mode="title"/> · <xsl:value-of select="$site"/></title>
        <style>body { font-family: sans-serif; max-width: 50em; margin: 2em auto; }</style>
      </head>
      <body>
        <header><p><xsl:value-of select="$site"/></p></header>
        <main><xsl:apply-templates select="/" mode="content"/></main>
        <footer><p>Rendered from XML by XSLT.</p></footer>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="/" mode="title">Untitled</xsl:template>
  <xsl:template match="/" mode="content"/>
</xsl:stylesheet>
