<?xml version="1.0" encoding="utf-8"?>
<!-- RSS 2.0 -> an HTML page, for browsers (XSLT(when="not-accepted")): feed readers get the XML.
     The parameters come from the app's XSLT layer: the fingerprinted stylesheet's URL (what
     static_url('site.css') gives) and the site's root (SCRIPT_NAME). -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:atom="http://www.w3.org/2005/Atom" exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="utf-8" indent="yes" doctype-system="about:legacy-compat"/>
  <xsl:param name="css" select="''"/>
  <xsl:param name="root" select="''"/>

  <xsl:template match="/rss/channel">
    <html lang="en">
      <head>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="title"/> · onion-wsgi showcase</title>
        <xsl:if test="$css != ''">
          <link rel="stylesheet" href="{$css}"/>
        </xsl:if>
      </head>
      <body>
        <header class="site">
          <a class="brand" href="{$root}/">onion<span>-wsgi</span></a>
          <nav>
            <a href="{$root}/">Home</a>
            <a href="{$root}/admin">Admin</a>
            <a href="{$root}/api/articles">API</a>
            <a href="{$root}/feed.xml">Feed</a>
          </nav>
        </header>
        <main class="feed">
          <h1 id="feed-title"><xsl:value-of select="title"/></h1>
          <p class="lead"><xsl:value-of select="description"/></p>
          <p class="note">You are reading an RSS feed. Your browser prefers HTML, so the
            <code>XSLT</code> layer turned the XML into this page; a feed reader at the same
            URL (<code>Accept: application/rss+xml</code>) gets the XML itself.</p>
          <xsl:apply-templates select="item"/>
        </main>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="item">
    <article>
      <span class="tag"><xsl:value-of select="category"/></span>
      <h2><a href="{link}"><xsl:value-of select="title"/></a></h2>
      <time><xsl:value-of select="pubDate"/></time>
      <p><xsl:value-of select="description"/></p>
    </article>
  </xsl:template>
</xsl:stylesheet>
