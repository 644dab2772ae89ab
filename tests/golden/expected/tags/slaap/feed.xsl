<?xml version="1.0" encoding="UTF-8"?>
<!--
  The page people see when they open feed.xml or atom.xml in a browser: what a feed is, the
  address to copy into a feed reader, and the articles with title, date and teaser.
  Browsers apply it through the <?xml-stylesheet?> line at the top of each feed; feed
  readers ignore it. Plain XSLT 1.0 (what browsers run); edit the style freely.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="UTF-8" indent="yes"
      doctype-system="about:legacy-compat"/>

  <xsl:variable name="rss" select="/rss/channel"/>
  <xsl:variable name="atom" select="/atom:feed"/>
  <xsl:variable name="title" select="$rss/title | $atom/atom:title"/>
  <xsl:variable name="self"
      select="$rss/atom:link[@rel='self']/@href | $atom/atom:link[@rel='self']/@href"/>
  <xsl:variable name="home"
      select="$rss/link | $atom/atom:link[@rel='alternate']/@href"/>

  <xsl:template match="/">
    <html lang="nl">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <meta name="color-scheme" content="light dark"/>
        <title><xsl:value-of select="$title"/> · feed</title>
        <style>
          body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
                 max-width: 40rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5;
                 color: #1f2a30; }
          .uitleg { background: #eef4f2; border-radius: .5rem; padding: 1rem 1.25rem; }
          .adres { display: block; font-family: ui-monospace, Menlo, Consolas, monospace;
                   background: #ffffff; border: 1px solid #b9c7c2; border-radius: .25rem;
                   padding: .5rem; margin: .5rem 0 0; overflow-wrap: anywhere; }
          ol { list-style: none; padding: 0; }
          li { margin: 0 0 1.25rem; }
          h2 { font-size: 1.1rem; margin: 0; }
          a { color: #1d5c4d; }
          .datum { color: #5c6a70; font-size: .9rem; margin: 0; }
          .teaser { margin: .25rem 0 0; }
          @media (prefers-color-scheme: dark) {
            body { background: #121212; color: #e6ecea; }
            .uitleg { background: #1f2a28; }
            .adres { background: #000000; border-color: #3d4a46; color: #e6ecea; }
            a { color: #8fd3bf; }
            .datum { color: #a9b6b2; }
          }
        </style>
      </head>
      <body>
        <h1><xsl:value-of select="$title"/></h1>
        <div class="uitleg">
          <p><strong>Dit is een <xsl:choose><xsl:when test="$rss">RSS</xsl:when>
            <xsl:otherwise>Atom</xsl:otherwise></xsl:choose>-feed: kopieer dit adres in je
            feedlezer</strong> om nieuwe artikelen automatisch te zien.
            <code class="adres"><xsl:value-of select="$self"/></code></p>
          <p>Geen feedlezer? Lees de artikelen op
            <a href="{$home}"><xsl:value-of select="$home"/></a>.</p>
        </div>
        <ol>
          <xsl:apply-templates select="$rss/item | $atom/atom:entry"/>
        </ol>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="item">
    <li>
      <h2><a href="{link}"><xsl:value-of select="title"/></a></h2>
      <p class="datum"><xsl:call-template name="rfc822-datum">
        <xsl:with-param name="date" select="pubDate"/></xsl:call-template></p>
      <!-- The RSS description is the plain-text teaser escaped once more as HTML (what feed
           readers expect); unescape it once here. nieuwsbrief never puts markup in it. -->
      <p class="teaser"><xsl:value-of select="description" disable-output-escaping="yes"/></p>
    </li>
  </xsl:template>

  <xsl:template match="atom:entry">
    <li>
      <h2><a href="{atom:link[@rel='alternate']/@href}"><xsl:value-of select="atom:title"/></a></h2>
      <p class="datum"><xsl:call-template name="iso-datum">
        <xsl:with-param name="date" select="atom:published"/></xsl:call-template></p>
      <p class="teaser"><xsl:value-of select="atom:summary"/></p>
    </li>
  </xsl:template>

  <!-- "Mon, 24 Nov 2025 09:00:00 +0100" -> "24 november 2025" -->
  <xsl:template name="rfc822-datum">
    <xsl:param name="date"/>
    <xsl:variable name="day" select="number(substring($date, 6, 2))"/>
    <xsl:variable name="month" select="substring($date, 9, 3)"/>
    <xsl:value-of select="$day"/>
    <xsl:text> </xsl:text>
    <xsl:call-template name="maand">
      <xsl:with-param name="number"
          select="(string-length(substring-before('JanFebMarAprMayJunJulAugSepOctNovDec', $month)) div 3) + 1"/>
    </xsl:call-template>
    <xsl:text> </xsl:text>
    <xsl:value-of select="substring($date, 13, 4)"/>
  </xsl:template>

  <!-- "2025-11-24T09:00:00+01:00" -> "24 november 2025" -->
  <xsl:template name="iso-datum">
    <xsl:param name="date"/>
    <xsl:value-of select="number(substring($date, 9, 2))"/>
    <xsl:text> </xsl:text>
    <xsl:call-template name="maand">
      <xsl:with-param name="number" select="number(substring($date, 6, 2))"/>
    </xsl:call-template>
    <xsl:text> </xsl:text>
    <xsl:value-of select="substring($date, 1, 4)"/>
  </xsl:template>

  <xsl:template name="maand">
    <xsl:param name="number"/>
    <xsl:choose>
      <xsl:when test="$number = 1">januari</xsl:when>
      <xsl:when test="$number = 2">februari</xsl:when>
      <xsl:when test="$number = 3">maart</xsl:when>
      <xsl:when test="$number = 4">april</xsl:when>
      <xsl:when test="$number = 5">mei</xsl:when>
      <xsl:when test="$number = 6">juni</xsl:when>
      <xsl:when test="$number = 7">juli</xsl:when>
      <xsl:when test="$number = 8">augustus</xsl:when>
      <xsl:when test="$number = 9">september</xsl:when>
      <xsl:when test="$number = 10">oktober</xsl:when>
      <xsl:when test="$number = 11">november</xsl:when>
      <xsl:when test="$number = 12">december</xsl:when>
    </xsl:choose>
  </xsl:template>
</xsl:stylesheet>
