<?xml version="1.0" encoding="utf-8"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output method="html" encoding="utf-8"/>
  <xsl:template match="/feed">
    <html><body><h1>Feed</h1><ul>
      <xsl:for-each select="item"><li><xsl:value-of select="."/></li></xsl:for-each>
    </ul></body></html>
  </xsl:template>
</xsl:stylesheet>
