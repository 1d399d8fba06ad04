<?xml version="1.0" encoding="UTF-8"?>
<!-- The catalogue as an HTML table, filtered by the "category" parameter ('' lists all). -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:import href="layout.xsl"/>

  <xsl:param name="category" select="''"/>

  <xsl:template match="/" mode="title"><xsl:value-of select="catalogue/@name"/></xsl:template>

  <xsl:template match="/" mode="content">
    <h1><xsl:value-of select="catalogue/@name"/></h1>
    <xsl:variable name="shown" select="catalogue/product[$category = '' or @category = $category]"/>
    <xsl:choose>
      <xsl:when test="$shown">
        <table>
          <thead><tr><th>Product</th><th>Category</th><th>Price</th></tr></thead>
          <tbody><xsl:apply-templates select="$shown"><xsl:sort select="name"/></xsl:apply-templates></tbody>
        </table>
      </xsl:when>
      <xsl:otherwise><p class="empty">Nothing in “<xsl:value-of select="$category"/>”.</p></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template match="product">
    <tr id="{@id}">
      <td><xsl:value-of select="name"/><br/><small><xsl:value-of select="summary"/></small></td>
      <td><xsl:value-of select="@category"/></td>
      <td><xsl:value-of select="price"/><xsl:text> </xsl:text><xsl:value-of select="price/@currency"/></td>
    </tr>
  </xsl:template>
</xsl:stylesheet>
