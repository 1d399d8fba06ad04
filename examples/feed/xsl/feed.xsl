<?xml version="1.0" encoding="UTF-8"?>
<!-- An RSS 2.0 feed as an HTML page: the channel, then one article per item. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:import href="layout.xsl"/>

  <xsl:template match="/" mode="title"><xsl:value-of select="rss/channel/title"/></xsl:template>

  <xsl:template match="/" mode="content">
    <h1><xsl:value-of select="rss/channel/title"/></h1>
    <p class="description"><xsl:value-of select="rss/channel/description"/></p>
    <p><a href="{rss/channel/link}">Website</a></p>
    <xsl:apply-templates select="rss/channel/item"/>
  </xsl:template>

  <xsl:template match="item">
    <article>
      <h2><a href="{link}"><xsl:value-of select="title"/></a></h2>
      <p class="meta"><time><xsl:value-of select="pubDate"/></time> in <xsl:value-of select="category"/></p>
      <p><xsl:value-of select="description"/></p>
    </article>
  </xsl:template>
</xsl:stylesheet>
